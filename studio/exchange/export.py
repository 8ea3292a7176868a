"""Writing an export: chunks of votes in, files out, one chunk in memory at a time.

    chunks (from the store) -> majority per pair? -> minimum agreement -> split by prompt
        -> rows of the format -> one streaming writer per split -> rename into place

No database here: the facade opens the read transaction and hands over an iterator.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.exchange import card
from studio.exchange import split as splits
from studio.exchange.aggregate import add_majority, at_least, check_min_agreement, take
from studio.exchange.formats import IMAGE_FORMATS, SUFFIX, Options, build, handling, schema
from studio.exchange.writers import (
    CsvWriter,
    HfSplitWriter,
    JsonlWriter,
    ParquetWriter,
    Target,
    Writer,
    save_hf_dataset,
)

Chunk = dict[str, Sequence[Any]]   # columns: name -> values, one per row
DATA_SUFFIXES = {".jsonl", ".json", ".csv", ".parquet", ".arrow", ".tsv", ".txt"}
_FILE_WRITERS = {".jsonl": JsonlWriter, ".csv": CsvWriter, ".parquet": ParquetWriter}


@dataclass(frozen=True)
class ExportPlan:
    options: Options
    split: dict[str, float] = field(default_factory=dict)
    min_agreement: float | None = None
    force: bool = False
    filters: dict[str, Any] = field(default_factory=dict)     # for the dataset card

    def __post_init__(self) -> None:
        check_min_agreement(self.min_agreement, self.options.aggregate)
        object.__setattr__(self, "split", splits.check(self.split))

    @property
    def dataset(self) -> bool:
        """Written as a `datasets` folder: `hf`, and `trl` with images (datasets.Image)."""
        return self.options.format == "hf" or (self.options.images and self.options.format in IMAGE_FORMATS)

    @property
    def directory(self) -> bool:
        return self.dataset or bool(self.split)


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: rows and file per split (`train` when there is no split)."""

    format: str
    path: Path
    rows: dict[str, int]
    paths: dict[str, Path]
    comparisons: int                      # votes read
    key: str | None = None                # the artifact-store key, for an export stored there

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def check_target(path: str | os.PathLike[str], plan: ExportPlan) -> Path:
    """Refuse an output name that does not say what will be written there."""
    path = Path(path).expanduser()
    suffix = path.suffix.lower()
    expected = SUFFIX[plan.options.format]
    if plan.directory:
        if suffix in DATA_SUFFIXES:
            what = "a dataset folder" if plan.dataset else f"a folder (one {expected} file a split)"
            why = (" with --split" if plan.split else
                   " of image votes (images as datasets.Image)" if plan.dataset and plan.options.format != "hf" else "")
            raise InputError(f"--format {plan.options.format}{why} writes {what}: name it without the "
                             f"'{suffix}' ending")
    elif suffix in DATA_SUFFIXES and suffix != expected and not (suffix == ".json" and expected == ".jsonl"):
        raise InputError(f"--format {plan.options.format} writes a {expected} file: give --out a name "
                         f"ending in {expected}")
    return path


def write_export(path: str | os.PathLike[str], chunks: Iterable[Chunk], plan: ExportPlan, *,
                 overview: card.Overview, read_media: Callable[[str], bytes] | None = None,
                 advance: Callable[[int], None] | None = None) -> ExportSummary:
    """Stream `chunks` into the export at `path`; nothing is left there if anything fails."""
    path = check_target(path, plan)
    options, out_schema = plan.options, schema(plan.options)
    names = splits.names(plan.split)
    splitter = splits.Splitter(plan.split)
    with Target(path, directory=plan.directory, force=plan.force) as temp, ExitStack() as open_writers:
        files = _files(temp, names, plan)
        writers: dict[str, Writer] = {}
        for name in names:
            writers[name] = _writer(files[name], out_schema, plan, read_media)
            open_writers.callback(writers[name].close)
        read = 0
        no_preference = dict.fromkeys(handling(options), 0)     # ties and both-bad rows read, for the card
        stream = open_writers.enter_context(closing(prefetched(chunks)))   # the reader stops first
        for chunk in stream:
            if options.majority:
                chunk = add_majority(chunk)
                votes_read = sum(chunk["votes"])
                if plan.min_agreement is not None:
                    chunk = at_least(chunk, plan.min_agreement)
            else:
                votes_read = len(chunk["outcome"])
            for outcome in chunk["outcome"]:
                if outcome in no_preference:
                    no_preference[outcome] += 1
            for name, rows in splitter.rows_by_split(chunk["prompt"]).items():
                writers[name].write(build(take(chunk, rows), options))
            read += votes_read
            if advance is not None:
                advance(votes_read)
        open_writers.close()
        rows = {name: writers[name].rows for name in names}
        if plan.dataset:
            save_hf_dataset(files, temp, as_dict=bool(plan.split))
            for part in files.values():
                part.unlink(missing_ok=True)
            (temp / "_build").rmdir()
        if plan.directory:
            (temp / "README.md").write_text(card.render(
                options=options, overview=overview, rows=rows, filters=plan.filters, split=plan.split,
                min_agreement=plan.min_agreement, columns=out_schema.names, no_preference=no_preference),
                encoding="utf-8")
    final = {name: (path if not plan.directory else path / files[name].name) for name in names}
    if plan.dataset:
        final = {name: (path / name if plan.split else path) for name in names}
    return ExportSummary(format=options.format, path=path, rows=rows, paths=final, comparisons=read)


def _files(temp: Path, names: list[str], plan: ExportPlan) -> dict[str, Path]:
    if plan.dataset:
        (temp / "_build").mkdir()
        return {name: temp / "_build" / f"{name}.arrow" for name in names}
    if not plan.directory:
        return {names[0]: temp}
    suffix = SUFFIX[plan.options.format]
    return {name: temp / f"{name}{suffix}" for name in names}


def _writer(path: Path, out_schema, plan: ExportPlan, read_media: Callable[[str], bytes] | None) -> Writer:
    if plan.dataset:
        return HfSplitWriter(path, out_schema, read_media=read_media)
    return _FILE_WRITERS[SUFFIX[plan.options.format]](path, out_schema)


def prefetched(chunks: Iterable[Chunk], depth: int = 2) -> Iterator[Chunk]:
    """The same chunks, read ahead in a helper thread: the database reads the next chunk
    while this thread writes the current one (SQLite and the PostgreSQL driver let go of
    the interpreter lock while they work). At most `depth` chunks wait in memory. The
    helper uses the connection alone until it has stopped, which happens before this
    generator returns, whether it finished or failed."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def hand_over(item: Any) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(chunks)
        try:
            for chunk in source:
                if not hand_over(chunk):
                    return
            hand_over(end)
        except BaseException as exc:  # noqa: BLE001 (re-raised in the caller's thread)
            hand_over(_Failed(exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    helper = threading.Thread(target=produce, name="export-reader", daemon=True)
    helper.start()
    try:
        while True:
            item = waiting.get()
            if item is end:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        helper.join()


@dataclass(frozen=True)
class _Failed:
    error: BaseException
