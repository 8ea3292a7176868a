"""The core of the `Studio` facade: opening a studio, prompts, contenders, generations,
votes, and reading them back as DataFrames. Other areas add their methods in sibling
modules; `studio/api.py` assembles the class.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any, Self

import pandas as pd

from studio.config import ContenderSpec, StudioConfig, contender_from_dict, load_config
from studio.errors import InputError, NotFoundError
from studio.records import (
    ContenderRecord,
    GenerationIn,
    ItemView,
    PromptIn,
    VoteIn,
    VoteResult,
    as_id,
)
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


class StudioCore:
    def __init__(self, config: StudioConfig):
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(config.database_url, synchronous=config.sqlite_synchronous)
        self._sync_contenders(config.contenders)

    @classmethod
    def open(cls, target: str | os.PathLike[str] | None = None, *,
             data_dir: str | os.PathLike[str] | None = None, **overrides: Any) -> Self:
        """Open (creating if needed) the studio in a data dir, or on a database URL."""
        return cls(load_config(target, data_dir=data_dir, **overrides))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- prompts ---------------------------------------------------------------------------

    def add_prompts(self, prompts: Iterable[str | dict[str, Any] | PromptIn], *,
                    prompt_set: str = "default", source: str = "manual") -> list[int]:
        """Add prompts (texts, dicts with a `prompt` key, or `PromptIn`); returns their ids.
        A prompt already in the set is not added twice."""
        items = [_prompt_in(p, prompt_set, source) for p in prompts]
        with self.store.transaction() as tx:
            return tx.prompts.add(items)

    def import_prompts(self, path: str | os.PathLike[str], *, prompt_set: str | None = None) -> ImportSummary:
        """Add every prompt of a .txt/.jsonl/.csv file in one transaction (all or nothing)."""
        from studio.exchange.prompts import read_prompt_file

        items = read_prompt_file(path, prompt_set=prompt_set)
        with self.store.transaction() as tx:
            before = len(tx.prompts.ids_for(_prompt_keys(items)))
            tx.prompts.add(items)
        return ImportSummary(source=os.fspath(path), read=len(items), added=len(set(_prompt_keys(items))) - before)

    def prompt_sets(self) -> dict[str, int]:
        with self.store.reader() as tx:
            return tx.prompts.sets()

    # -- contenders and generations --------------------------------------------------------

    def add_contender(self, spec: ContenderSpec | dict[str, Any]) -> ContenderRecord:
        """Register (or update) a contender in the database."""
        if isinstance(spec, dict):
            spec = contender_from_dict(spec, where="add_contender")
        with self.store.transaction() as tx:
            return tx.contenders.upsert(spec)

    def contender(self, name: str) -> ContenderRecord:
        with self.store.reader() as tx:
            record = tx.contenders.get(name)
        if record is None:
            raise NotFoundError(f"no contender named {name!r}: see `studio stats` or add it to studio.toml")
        return record

    def add_generations(self, generations: Iterable[GenerationIn]) -> list[int]:
        with self.store.transaction() as tx:
            return tx.generations.add(list(generations))

    # -- votes -----------------------------------------------------------------------------

    def vote(self, item_id: int | None = None, *, outcome: str, rater: str,
             left: int | None = None, right: int | None = None, idempotency_key: str | None = None,
             rationale: str | None = None, decision_ms: int | None = None,
             session_id: str | None = None, group_id: str | None = None, source: str = "ui") -> VoteResult:
        """Record one vote on a rating item (or on two generations given as `left`/`right`).

        The vote is committed before this returns. Retrying with the same
        `idempotency_key` returns the first vote and writes nothing.
        """
        key = idempotency_key or uuid.uuid4().hex
        item_id = None if item_id is None else as_id(item_id, "item_id")
        left = None if left is None else as_id(left, "left")
        right = None if right is None else as_id(right, "right")
        with self.store.transaction() as tx:
            if item_id is not None:
                item = tx.items.get(item_id)
                if item is None:
                    raise NotFoundError(f"no rating item with id {item_id}")
                if item.kind != "pair":
                    raise InputError(f"item {item_id} is a ranking grid: record it with rank()")
                left, right = item.generation_ids
            if left is None or right is None:
                raise InputError("vote on a rating item, or give both `left` and `right` generation ids")
            result = tx.votes.record(VoteIn(
                left_generation_id=left, right_generation_id=right, outcome=outcome, rater=rater,
                idempotency_key=key, rationale=rationale or None, decision_ms=decision_ms,
                session_id=session_id, group_id=group_id, item_id=item_id, source=source))
        if result.created:
            self.after_vote(result)
        return result

    def next_item(self, rater: str, *, prompt_set: str | None = None, kind: str | None = None) -> ItemView | None:
        """The next item for this rater (a pair or a grid), or None when nothing is ready.
        The same rater is never shown the same item twice; a reload shows their open item."""
        with self.store.transaction() as tx:
            rater_id = tx.raters.id_for(rater)
            item = tx.items.next_for_rater(rater_id, prompt_set=prompt_set, kind=kind)
            return tx.items.view(item) if item else None

    def after_vote(self, result: VoteResult) -> None:
        """Called once for each new vote, after its commit (areas hook in here)."""

    def ensure_rater(self, name: str, role: str | None = None):
        with self.store.transaction() as tx:
            return tx.raters.ensure(name, role)

    # -- reading ---------------------------------------------------------------------------

    def comparisons(self, *, prompt_set: str | None = None, contender: str | None = None,
                    rater: str | None = None, source: str | None = None, since=None, until=None,
                    limit: int | None = None, newest_first: bool = False,
                    with_content: bool = True) -> pd.DataFrame:
        """Votes as a DataFrame, one row per comparison, oldest first."""
        filters = ComparisonFilter(prompt_set=prompt_set, contender=contender, rater=rater, source=source,
                                   since=_time(since), until=_time(until), limit=limit,
                                   newest_first=newest_first)
        with self.store.reader() as tx:
            return tx.frames.comparisons(tx.session, filters, with_content=with_content)

    def generations(self, *, contender: str | None = None, prompt_set: str | None = None,
                    limit: int | None = None) -> pd.DataFrame:
        with self.store.reader() as tx:
            return tx.frames.generations(tx.session, contender=contender, prompt_set=prompt_set, limit=limit)

    def contenders(self) -> pd.DataFrame:
        with self.store.reader() as tx:
            return tx.frames.contenders(tx.session)

    def stats(self) -> dict[str, int]:
        with self.store.reader() as tx:
            return tx.frames.counts(tx.session)

    def _repr_html_(self) -> str:
        counts = self.stats()
        rows = "".join(f"<tr><td>{escape(k)}</td><td>{v:,}</td></tr>" for k, v in counts.items())
        where = escape(self.store.engine.url.render_as_string(hide_password=True))
        return f"<b>Feedback Studio</b> <code>{where}</code><table>{rows}</table>"

    def __repr__(self) -> str:
        return f"Studio({self.store.engine.url.render_as_string(hide_password=True)!r})"

    # -- internals -------------------------------------------------------------------------

    def _sync_contenders(self, specs: Iterable[ContenderSpec]) -> None:
        specs = list(specs)
        if specs:
            with self.store.transaction() as tx:
                for spec in specs:
                    tx.contenders.upsert(spec)


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


def _prompt_keys(items: list[PromptIn]) -> list[tuple[str, str]]:
    from studio.records import sha256_text

    return [(p.prompt_set, sha256_text(p.text)) for p in items]


def _time(value):
    if value is None or hasattr(value, "tzinfo"):
        return value
    return pd.Timestamp(value).to_pydatetime()
