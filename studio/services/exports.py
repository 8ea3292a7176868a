"""Exports: preference datasets that train as they are in TRL and load in `datasets`. The
database is read in chunks inside one read transaction and streamed into the writers;
images come from the artifact store."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from studio.artifacts import ArtifactStore
from studio.config import StudioConfig
from studio.errors import InputError
from studio.progress import counting
from studio.store import Store
from studio.store.exports import ExportFilter

if TYPE_CHECKING:
    from studio.exchange.export import ExportSummary

Progress = bool | None | Callable[[int, int], None]
STORE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class Exports:
    def __init__(self, store: Store, config: StudioConfig, artifacts: ArtifactStore):
        self.store = store
        self.config = config
        self.artifacts = artifacts

    def export(self, path: str | os.PathLike[str], *, format: str, aggregate: str = "raw", ties: str = "drop",
               split: dict[str, float] | None = None, prompt_set: str | None = None,
               contenders: str | Sequence[str] | None = None, raters: str | Sequence[str] | None = None,
               since=None, until=None, source: str | None = None, min_agreement: float | None = None,
               force: bool = False, progress: Progress = None, chunk_size: int = 10_000) -> ExportSummary:
        """Write the votes the filters select to `path` as `format` (see `Studio.export`)."""
        # pyarrow and datasets load only when something is exported
        from studio.exchange.card import Overview
        from studio.exchange.export import ExportPlan, check_target, write_export
        from studio.exchange.formats import IMAGE_FORMATS, VOTE_FORMATS, Options

        filters = ExportFilter(prompt_set=prompt_set, contenders=_names(contenders), raters=_names(raters),
                               source=source, since=_utc(since), until=_utc(until))
        plan = ExportPlan(options=Options(format=format, aggregate=aggregate, ties=ties), split=dict(split or {}),
                          min_agreement=min_agreement, force=force,
                          filters={"prompt set": prompt_set, "contenders": list(filters.contenders),
                                   "raters": list(filters.raters), "source": source, "since": filters.since,
                                   "until": filters.until})
        check_target(path, plan)
        self._refuse_studio_files(path)
        with self.store.reader() as tx:
            filters = tx.exports.snapshot(filters)
            names = tx.exports.lookups()
            found = tx.exports.overview(filters, names)
            if format not in VOTE_FORMATS and (textless := tx.exports.textless_count(filters)):
                raise InputError(f"{textless} of the selected votes have no response texts (imported from a log "
                                 f"that names models only): a {format} export needs the texts; leave them out "
                                 "with --source, or export them as jsonl, csv or parquet")
            if format in IMAGE_FORMATS and tx.exports.has_media(filters):
                plan = replace(plan, options=replace(plan.options, images=True))
            chunks = (tx.exports.pair_chunks(filters, size=chunk_size, names=names) if aggregate == "majority"
                      else tx.exports.vote_chunks(filters, size=chunk_size, names=names))
            with counting(progress, found["comparisons"], desc="exporting", unit=" votes") as advance:
                return write_export(path, chunks, plan, overview=Overview(**found),
                                    read_media=self.artifacts.read_bytes, advance=advance)

    def export_to_store(self, name: str, **options) -> ExportSummary:
        """Export (same options as `export`) into the artifact store as the tree
        `exports/<name>/<UTC time>`: written into a staging folder, then moved in whole, so the
        key shows nothing until the export is complete. The summary's `key` names the tree and
        its `path`/`paths` are keys in the store."""
        from studio.exchange.formats import SUFFIX

        if not isinstance(name, str) or not STORE_NAME.fullmatch(name):
            raise InputError(f"--to-store {name!r}: use a name of letters, digits, '.', '_' or '-' (it becomes "
                             "the key exports/<name>/<time>)")
        if options.get("force"):
            raise InputError("--force has no meaning with --to-store: every export is stored under a new key")
        key = f"exports/{name}/{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"
        staged = self.artifacts.staging_dir(key)
        try:
            written = self.export(staged / "export", **options)
            if written.path.is_dir():
                for part in list(written.path.iterdir()):
                    part.rename(staged / part.name)
                written.path.rmdir()
                inside = {n: p.relative_to(written.path).as_posix() for n, p in written.paths.items()}
            else:
                leaf = f"{name}{SUFFIX[written.format]}"
                written.path.rename(staged / leaf)
                inside = {n: leaf for n in written.paths}
            self.artifacts.move_tree_in(key, staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        return replace(written, key=key, path=Path(key),
                       paths={n: Path(key if rel == "." else f"{key}/{rel}") for n, rel in inside.items()})

    def export_tree(self, key: str) -> Path:
        """A local folder holding the stored export `key` (from an object store: downloaded
        once into the cache and checked against its manifest)."""
        if not isinstance(key, str) or not key.startswith("exports/"):
            raise InputError(f"{key!r} is not an export key: stored exports are under exports/<name>/<time>")
        return self.artifacts.tree(key.rstrip("/"))

    def _refuse_studio_files(self, path: str | os.PathLike[str]) -> None:
        try:
            target = Path(path).expanduser().resolve()
        except (RuntimeError, OSError) as exc:      # a loop of symbolic links, a name too long
            raise InputError(f"{path}: cannot use this path for an export ({exc}); choose another --out") from exc
        for protected in _studio_files(self.config.data_dir, self.config.database_url):
            if target == protected or (protected.name == "media" and protected in target.parents):
                raise InputError(f"{path} is part of the studio's own data: choose another --out")


def _studio_files(data_dir: Path, database_url: str) -> list[Path]:
    """What an export must never replace: the data dir, its media, the database and its journals."""
    protected = [data_dir, data_dir / "media"]
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        protected += [database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))]
    return [p.expanduser().resolve() for p in protected]


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _utc(value) -> datetime | None:
    """A time filter in UTC (a time without a zone is taken as UTC); strings are ISO 8601."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise InputError(f"not a date or time: {value!r} (use ISO 8601, e.g. 2025-01-31 or "
                             "2025-01-31T12:00)") from exc
    elif not isinstance(value, datetime):
        import pandas as pd

        value = pd.Timestamp(value).to_pydatetime()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
