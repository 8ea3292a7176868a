"""The catalog: prompts, contenders, generations and raters, and reading the votes back as
DataFrames. Each write is one transaction; reads are one consistent snapshot."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from studio.config import StudioConfig
from studio.contender_spec import ContenderSpec, contender_from_dict
from studio.errors import InputError, NotFoundError
from studio.records import ContenderRecord, GenerationIn, PromptIn, RaterRecord, sha256_text
from studio.store import Store
from studio.store.frames import ComparisonFilter


@dataclass(frozen=True)
class ImportSummary:
    source: str
    read: int
    added: int

    @property
    def existing(self) -> int:
        return self.read - self.added


class Catalog:
    def __init__(self, store: Store, config: StudioConfig):
        self.store = store
        self.config = config

    # -- prompts ---------------------------------------------------------------------------

    def add_prompts(self, prompts: Iterable[str | dict[str, Any] | PromptIn], *, prompt_set: str = "default",
                    source: str = "manual") -> list[int]:
        items = [_prompt_in(p, prompt_set, source) for p in prompts]
        with self.store.transaction() as tx:
            return tx.prompts.add(items)

    def import_prompts(self, path: str | os.PathLike[str], *, prompt_set: str | None = None) -> ImportSummary:
        from studio.exchange.prompts import read_prompt_file

        items = read_prompt_file(path, prompt_set=prompt_set)
        keys = [(p.prompt_set, sha256_text(p.text)) for p in items]
        with self.store.transaction() as tx:
            before = len(tx.prompts.ids_for(keys))
            tx.prompts.add(items)
        return ImportSummary(source=os.fspath(path), read=len(items), added=len(set(keys)) - before)

    def prompt_sets(self) -> dict[str, int]:
        with self.store.reader() as tx:
            return tx.prompts.sets()

    # -- contenders, generations, raters ---------------------------------------------------

    def add_contender(self, spec: ContenderSpec | dict[str, Any]) -> ContenderRecord:
        if isinstance(spec, dict):
            spec = contender_from_dict(spec, where="add_contender")
        with self.store.transaction() as tx:
            return tx.contenders.upsert(spec)

    def declare_contender(self, name: str, *, model: str, kind: str | None = None, backend: str | None = None,
                          params: dict[str, Any] | None = None) -> tuple[ContenderSpec, ContenderRecord]:
        """Append a `[[contenders]]` table to the data dir's studio.toml (validated by the
        same code that reads it; the file is unchanged on error) and register it."""
        from studio.generation.contender_file import append_contender

        backend = backend or ("diffusers" if kind == "image" else "transformers")
        declared: dict[str, Any] = {"name": name, "backend": backend, "model": model, "params": params or {}}
        if kind is not None:
            declared["kind"] = kind
        spec = contender_from_dict(declared, where=str(self.config.config_file))
        append_contender(self.config.config_file, spec)
        return spec, self.add_contender(spec)

    def set_contender_enabled(self, name: str, enabled: bool) -> ContenderRecord:
        """Enable or disable a contender: a disabled one makes no new outputs or pairs (its
        votes and outputs stay)."""
        with self.store.transaction() as tx:
            if tx.contenders.get(name) is None:
                raise NotFoundError(f"no contender named {name!r}: see `studio contenders list`")
            tx.contenders.set_enabled(name, enabled)
            return tx.contenders.get(name)

    def edit_contender(self, name: str, params: dict[str, Any]) -> ContenderRecord:
        """New params for a contender (checked as studio.toml's are; a new revision). One
        declared in studio.toml is edited there: the file is read again at every start."""
        current = self.contender(name)
        if name in self._declared_names():
            raise InputError(f"contender {name!r} is declared in {self.config.config_file}: edit its params "
                             "there and restart (the file wins at every start)")
        spec = contender_from_dict({"name": name, "kind": current.kind, "backend": current.backend,
                                    "model": current.model, "params": dict(params)}, where="the Settings tab")
        with self.store.transaction() as tx:
            return tx.contenders.upsert(spec)

    def _declared_names(self) -> set[str]:
        """Contenders studio.toml declares now (the file may have changed since start)."""
        import tomllib

        names = {spec.name for spec in self.config.contenders}
        path = self.config.config_file
        if path is not None and path.exists():
            try:
                declared = tomllib.loads(path.read_text(encoding="utf-8")).get("contenders", [])
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                declared = []
            names |= {c.get("name") for c in declared if isinstance(c, dict)}
        return names

    def sync_contenders(self, specs: Iterable[ContenderSpec]) -> None:
        """Register the contenders a studio.toml declares (a changed one gets a new revision)."""
        specs = list(specs)
        if specs:
            with self.store.transaction() as tx:
                for spec in specs:
                    tx.contenders.upsert(spec)

    def contender(self, name: str) -> ContenderRecord:
        with self.store.reader() as tx:
            record = tx.contenders.get(name)
        if record is None:
            raise NotFoundError(f"no contender named {name!r}: see `studio stats` or add it to studio.toml")
        return record

    def add_generations(self, generations: Iterable[GenerationIn]) -> list[int]:
        with self.store.transaction() as tx:
            return tx.generations.add(list(generations))

    def ensure_rater(self, name: str, role: str | None = None) -> RaterRecord:
        with self.store.transaction() as tx:
            return tx.raters.ensure(name, role)

    # -- reading ---------------------------------------------------------------------------

    def comparisons(self, filters: ComparisonFilter, *, with_content: bool = True) -> pd.DataFrame:
        with self.store.reader() as tx:
            return tx.frames.comparisons(filters, with_content=with_content)

    def generations(self, *, contender: str | None = None, prompt_set: str | None = None,
                    limit: int | None = None) -> pd.DataFrame:
        with self.store.reader() as tx:
            return tx.frames.generations(contender=contender, prompt_set=prompt_set, limit=limit)

    def contenders(self) -> pd.DataFrame:
        with self.store.reader() as tx:
            return tx.frames.contenders()

    def stats(self) -> dict[str, int]:
        with self.store.reader() as tx:
            return tx.frames.counts()


def _prompt_in(item: str | dict[str, Any] | PromptIn, prompt_set: str, source: str) -> PromptIn:
    if isinstance(item, PromptIn):
        return item
    if isinstance(item, str):
        text, extra = item, {}
    elif isinstance(item, dict) and isinstance(item.get("prompt"), str):
        text, extra = item["prompt"], item
    else:
        raise InputError(f"a prompt is a string or a dict with a 'prompt' string, got {item!r:.80}")
    if not text.strip():
        raise InputError("a prompt cannot be empty")
    return PromptIn(text=text.strip(), prompt_set=extra.get("prompt_set", prompt_set),
                    system_prompt=extra.get("system_prompt"), meta=extra.get("meta", {}), source=source)
