"""Streaming read queries for exports: votes in chunks, never the whole table in memory.

Raw votes are read by keyset pagination over `comparisons.id` (each chunk is one short
query `WHERE id > :last ORDER BY id LIMIT n`, bounded by the highest id seen when the export
started, so an export is a consistent cut even while raters keep voting). Pairs for majority
exports are counted by the database (`GROUP BY` the unordered pair of generations) and
streamed from one cursor. Chunks are columnar: `{column: [values...]}`, plain Python values.
On SQLite each chunk of votes comes back as one JSON array per column (see `_json_columns`).

Contender and rater names come from small lookup tables loaded once, so the big queries
join only prompts and generations.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from studio.errors import NotFoundError
from studio.records import TEXTLESS_SHA256
from studio.store.counted import counted_votes
from studio.store.schema import Comparison, Contender, Generation, Prompt, Rater
from studio.store.sql import Repo, chunked
from studio.store.vote_sides import LEFT, RIGHT, VOTE, side_content, vote_sides

try:
    from orjson import loads as _loads  # comes with gradio; the stdlib's is slower
except ImportError:
    from json import loads as _loads

Chunk = dict[str, Sequence[Any]]

VOTE_COLUMNS = (
    "comparison_id", "created_at", "prompt_set", "prompt_id", "prompt", "system_prompt",
    "left_contender", "right_contender", "left_generation_id", "right_generation_id",
    "left_text", "right_text", "left_media", "right_media", "left_system_prompt", "right_system_prompt",
    "outcome", "rater", "rationale", "decision_ms", "session_id", "group_id", "item_id", "source",
    "idempotency_key",
)
PAIR_COLUMNS = (
    "first_comparison_id", "first_created_at", "last_created_at", "prompt_set", "prompt_id", "prompt",
    "system_prompt", "left_contender", "right_contender", "left_generation_id", "right_generation_id",
    "left_text", "right_text", "left_media", "right_media", "left_system_prompt", "right_system_prompt",
    "votes", "left_votes", "right_votes", "tie_votes", "both_bad_votes",
)


@dataclass(frozen=True)
class ExportFilter:
    """Which comparisons an export reads. Names are resolved to ids once, up front."""

    prompt_set: str | None = None
    contenders: tuple[str, ...] = ()        # a comparison matches when either side is one of them
    raters: tuple[str, ...] = ()
    source: str | None = None
    since: datetime | None = None           # UTC, inclusive
    until: datetime | None = None           # UTC, exclusive
    max_id: int | None = None               # set by `snapshot`: the cut this export reads
    include_superseded: bool = False        # also a rater's second votes on an item (never counted)
    include_excluded: bool = False          # also the votes of excluded raters or sessions


@dataclass
class Lookups:
    """Small tables read once per export: contender and rater names by id."""

    contender_names: dict[int, str] = field(default_factory=dict)
    contender_systems: dict[int, str | None] = field(default_factory=dict)
    rater_names: dict[int, str] = field(default_factory=dict)


def lookups(session: Session) -> Lookups:
    found = Lookups()
    for cid, name, params in session.execute(select(Contender.id, Contender.name, Contender.params)):
        found.contender_names[cid] = name
        system = (params or {}).get("system_prompt")
        found.contender_systems[cid] = system if isinstance(system, str) and system.strip() else None
    found.rater_names = dict(session.execute(select(Rater.id, Rater.name)).all())
    return found


def snapshot(session: Session, f: ExportFilter) -> ExportFilter:
    """The filter bounded by the newest comparison now, with names checked."""
    _ids_for(session, Contender, f.contenders, "contender")
    _ids_for(session, Rater, f.raters, "rater")
    newest = session.scalar(select(func.max(Comparison.id))) or 0
    return replace(f, max_id=newest)


def count(session: Session, f: ExportFilter) -> int:
    """How many comparisons the filter matches (for progress bars and cards)."""
    query = select(func.count()).select_from(Comparison)
    if f.prompt_set is not None:
        query = query.join(Prompt, Prompt.id == Comparison.prompt_id)
    return session.scalar(query.where(*_conditions(session, f))) or 0


def overview(session: Session, f: ExportFilter, names: Lookups) -> dict[str, Any]:
    """Counts for the dataset card: votes, raters, first and last vote, votes per contender."""
    def base(*columns):
        query = select(*columns).select_from(Comparison)
        if f.prompt_set is not None:
            query = query.join(Prompt, Prompt.id == Comparison.prompt_id)
        return query.where(*_conditions(session, f))

    votes, raters, first, last = session.execute(base(
        func.count(), func.count(Comparison.rater_id.distinct()), func.min(Comparison.created_at),
        func.max(Comparison.created_at))).one()
    sides: tuple[dict[int, int], dict[int, int]] = ({}, {})   # left, right: one pass along their index
    pairs = (Comparison.left_contender_id, Comparison.right_contender_id)
    for left, right, n in session.execute(base(*pairs, func.count()).group_by(*pairs)):
        sides[0][left] = sides[0].get(left, 0) + n
        sides[1][right] = sides[1].get(right, 0) + n
    per_contender: dict[str, int] = {}
    for cid, n in [*sorted(sides[0].items()), *sorted(sides[1].items())]:
        name = names.contender_names.get(cid, str(cid))
        per_contender[name] = per_contender.get(name, 0) + n
    return {"comparisons": votes or 0, "raters": raters or 0, "first": first, "last": last,
            "contenders": per_contender}


def has_media(session: Session, f: ExportFilter) -> bool:
    """Whether any matching comparison shows an image (or other media file)."""
    query = vote_sides(VOTE.c.id, prompt=f.prompt_set is not None).where(
        *_conditions(session, f), LEFT.c.media_path.is_not(None) | RIGHT.c.media_path.is_not(None))
    return bool(session.scalar(select(exists(query))))


def textless_count(session: Session, f: ExportFilter) -> int:
    """How many matching comparisons have a side without its response text (a battle log's)."""
    query = vote_sides(func.count(), prompt=f.prompt_set is not None).where(
        *_conditions(session, f), (LEFT.c.content_sha256 == TEXTLESS_SHA256) | (RIGHT.c.content_sha256 == TEXTLESS_SHA256))
    return int(session.scalar(query) or 0)


def vote_chunks(session: Session, f: ExportFilter, *, size: int = 10_000,
                names: Lookups | None = None) -> Iterator[Chunk]:
    """Every matching comparison with its prompt and both outputs, oldest first, in chunks.
    Driver values, not ORM objects or SQLAlchemy rows: the export reads millions of them.
    Prompts are read once per chunk for the ids not seen yet (a prompt has many votes)."""
    names = names or lookups(session)
    c = VOTE.c
    base = (vote_sides(*_VOTE_CHUNK_COLUMNS, prompt=f.prompt_set is not None)
            .where(*_conditions(session, f)).order_by(c.id).limit(size))
    connection = session.connection()
    fetch = _json_columns if _has_json(connection) else _driver_columns
    prompts = _PromptCache(connection)
    contender, system, rater = names.contender_names.get, names.contender_systems.get, names.rater_names.get
    any_system = any(names.contender_systems.values())
    after = 0
    while True:
        columns = dict(zip(_VOTE_CHUNK_NAMES, fetch(connection, base.where(c.id > after)), strict=False))
        if not columns or not columns["id"]:
            return
        rows = len(columns["id"])
        after = columns["id"][-1]
        prompt_ids = columns["prompt_id"]
        left_ids, right_ids = columns["left_contender_id"], columns["right_contender_id"]
        prompt = prompts.rows(prompt_ids)
        none = (None,) * rows
        yield {
            "comparison_id": columns["id"], "created_at": _utc(_datetimes(columns["created_at"])),
            "prompt_set": [prompt[i][0] for i in prompt_ids], "prompt_id": prompt_ids,
            "prompt": [prompt[i][1] for i in prompt_ids], "system_prompt": [prompt[i][2] for i in prompt_ids],
            "left_contender": [contender(i) for i in left_ids], "right_contender": [contender(i) for i in right_ids],
            "left_system_prompt": [system(i) for i in left_ids] if any_system else none,
            "right_system_prompt": [system(i) for i in right_ids] if any_system else none,
            "rater": [rater(i) for i in columns["rater_id"]],
            **{name: columns[name] for name in _AS_STORED},
        }
        if rows < size:
            return


# What a chunk of votes reads, by name; `_AS_STORED` go into the chunk as the database has them.
_AS_STORED = ("left_generation_id", "right_generation_id", "left_text", "right_text", "left_media", "right_media",
              "outcome", "rationale", "decision_ms", "session_id", "group_id", "item_id", "source",
              "idempotency_key")
_VOTE_CHUNK_COLUMNS = (VOTE.c.id, VOTE.c.created_at, VOTE.c.prompt_id, VOTE.c.left_contender_id,
                       VOTE.c.right_contender_id, VOTE.c.rater_id, *side_content(),
                       *(VOTE.c[name] for name in _AS_STORED if name in VOTE.c))
_VOTE_CHUNK_NAMES = tuple(column.key if hasattr(column, "key") else column.name for column in _VOTE_CHUNK_COLUMNS)


class _PromptCache:
    """(prompt_set, text, system_prompt) by prompt id, read in batches for the ids not seen
    yet, and forgotten when it grows past `limit` prompts (memory stays bounded)."""

    def __init__(self, connection, limit: int = 100_000):
        self.connection, self.limit, self.known = connection, limit, {}
        p = Prompt.__table__.c
        self.query = select(p.id, p.prompt_set, p.text, p.system_prompt)

    def rows(self, ids: Sequence[int]) -> dict[int, tuple]:
        missing = set(ids).difference(self.known)
        if len(self.known) + len(missing) > self.limit:
            self.known = {}
            missing = set(ids)
        for part in chunked(sorted(missing), 5_000):
            for row in _driver_rows(self.connection, self.query.where(Prompt.__table__.c.id.in_(part))):
                self.known[row[0]] = row[1:]
        return self.known


def pair_chunks(session: Session, f: ExportFilter, *, size: int = 10_000,
                names: Lookups | None = None) -> Iterator[Chunk]:
    """One row per unordered pair of generations with its vote counts, ordered by the pair's
    first vote. `left` is the generation with the lower id; counts are in that orientation."""
    names = names or lookups(session)
    c = Comparison
    low = case((c.left_generation_id < c.right_generation_id, c.left_generation_id), else_=c.right_generation_id)
    high = case((c.left_generation_id < c.right_generation_id, c.right_generation_id), else_=c.left_generation_id)
    winner = case((c.outcome == "left", c.left_generation_id), (c.outcome == "right", c.right_generation_id),
                  else_=None)

    def tally(condition) -> Any:
        return func.sum(case((condition, 1), else_=0))

    query = (select(low.label("low"), high.label("high"), func.min(c.prompt_id), func.count(),
                    tally(winner == low), tally(winner == high), tally(c.outcome == "tie"),
                    tally(c.outcome == "both_bad"), func.min(c.id).label("first_id"),
                    func.min(c.created_at), func.max(c.created_at))
             .where(*_conditions(session, f))
             .group_by(low, high).order_by(func.min(c.id)))
    if f.prompt_set is not None:
        query = query.join(Prompt, Prompt.id == c.prompt_id)
    result = session.connection().execute(query.execution_options(yield_per=size))
    for part in result.partitions(size):
        yield _pair_chunk(session, part, names)


def _pair_chunk(session: Session, rows: Sequence[Any], names: Lookups) -> Chunk:
    columns = list(zip(*rows, strict=True))
    lows, highs, prompt_ids = columns[0], columns[1], columns[2]
    generations: dict[int, tuple] = {}
    for part in chunked(sorted(set(lows) | set(highs)), 5000):
        for row in session.execute(select(Generation.id, Generation.contender_id, Generation.text,
                                          Generation.media_path).where(Generation.id.in_(part))):
            generations[row[0]] = tuple(row[1:])
    prompts: dict[int, tuple] = {}
    for part in chunked(sorted(set(prompt_ids)), 5000):
        for row in session.execute(select(Prompt.id, Prompt.prompt_set, Prompt.text, Prompt.system_prompt)
                                   .where(Prompt.id.in_(part))):
            prompts[row[0]] = tuple(row[1:])
    chunk: Chunk = {name: [] for name in PAIR_COLUMNS}
    rows = [(*row[:9], *_utc(row[9:11])) for row in rows]
    for low, high, prompt_id, votes, low_wins, high_wins, ties, both_bad, first_id, first_at, last_at in rows:
        prompt_set, prompt, system_prompt = prompts[prompt_id]
        sides = generations[low], generations[high]
        values = (first_id, first_at, last_at, prompt_set, prompt_id, prompt, system_prompt,
                  names.contender_names.get(sides[0][0]), names.contender_names.get(sides[1][0]), low, high,
                  sides[0][1], sides[1][1], sides[0][2], sides[1][2],
                  names.contender_systems.get(sides[0][0]), names.contender_systems.get(sides[1][0]),
                  votes, low_wins, high_wins, ties, both_bad)
        for name, value in zip(PAIR_COLUMNS, values, strict=True):
            chunk[name].append(value)
    return chunk


def _driver_rows(connection, statement) -> list[tuple]:
    """The rows of `statement` as the database driver returns them (plain tuples): SQLAlchemy
    binds the parameters, but building a Row object per row would cost more than the query."""
    result = connection.execute(statement)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _has_json(connection) -> bool:
    """Whether the database is SQLite with its JSON functions (built in since 3.38)."""
    if connection.dialect.name != "sqlite":
        return False
    try:
        connection.exec_driver_sql("SELECT json_group_array(json_array(1))").close()
    except DBAPIError:
        return False
    return True


def _driver_columns(connection, statement) -> list[Sequence[Any]]:
    return list(zip(*_driver_rows(connection, statement), strict=True))


def _json_columns(connection, statement) -> list[Sequence[Any]]:
    """The columns of `statement` (SQLite), each packed by SQLite into one JSON array: the
    query runs in one step without the interpreter lock (row by row, the driver takes the
    lock back for every row, waiting for the writer thread each time), the JSON parser
    builds the values faster than the driver, and no rows need turning into columns.
    The values are the same: integers, text and NULLs (no floats or blobs are read)."""
    inner = statement.subquery()
    [texts] = _driver_rows(connection, select(*(func.json_group_array(column) for column in inner.c)))
    columns = [_loads(text) for text in texts]
    ids = columns[0]
    if ids != sorted(ids):      # SQLite keeps the subquery's order, but does not promise to
        order = sorted(range(len(ids)), key=ids.__getitem__)
        columns = [[values[i] for i in order] for values in columns]
    return columns


def _datetimes(values: Sequence[Any]) -> Sequence[datetime | None]:
    """Times from the driver: SQLite gives the stored ISO text, PostgreSQL datetimes."""
    if values and isinstance(values[0], str):
        parse = datetime.fromisoformat
        return [None if v is None else parse(v) for v in values]
    return values


def _utc(times: Sequence[datetime | None]) -> Sequence[datetime | None]:
    """Times as the database gave them, in UTC: naive from SQLite (stored in UTC), aware
    from PostgreSQL (in the session's zone), converted."""
    if not any(t is not None and t.tzinfo is not None for t in times[:1]):
        return times
    return [None if t is None else t.astimezone(UTC) for t in times]


def _conditions(session: Session, f: ExportFilter) -> list:
    conditions = [counted_votes(VOTE, include_superseded=f.include_superseded, include_excluded=f.include_excluded)]
    if f.max_id is not None:
        conditions.append(Comparison.id <= f.max_id)
    if f.prompt_set is not None:
        conditions.append(Prompt.prompt_set == f.prompt_set)
    if f.contenders:
        ids = _ids_for(session, Contender, f.contenders, "contender")
        conditions.append((Comparison.left_contender_id.in_(ids)) | (Comparison.right_contender_id.in_(ids)))
    if f.raters:
        conditions.append(Comparison.rater_id.in_(_ids_for(session, Rater, f.raters, "rater")))
    if f.source is not None:
        conditions.append(Comparison.source == f.source)
    if f.since is not None:
        conditions.append(Comparison.created_at >= f.since)
    if f.until is not None:
        conditions.append(Comparison.created_at < f.until)
    return [and_(*conditions)]


def _ids_for(session: Session, table, names: Sequence[str], what: str) -> list[int]:
    if not names:
        return []
    found = dict(session.execute(select(table.name, table.id).where(table.name.in_(set(names)))).all())
    missing = sorted(set(names) - set(found))
    if missing:
        raise NotFoundError(f"no {what} named {missing[0]!r}: check the name (see `studio stats`)")
    return sorted(found.values())


class ExportRepo(Repo):
    """The export queries bound to one open (read) transaction: `tx.exports`."""

    def lookups(self) -> Lookups:
        return lookups(self.session)

    def snapshot(self, f: ExportFilter) -> ExportFilter:
        return snapshot(self.session, f)

    def count(self, f: ExportFilter) -> int:
        return count(self.session, f)

    def overview(self, f: ExportFilter, names: Lookups) -> dict[str, Any]:
        return overview(self.session, f, names)

    def has_media(self, f: ExportFilter) -> bool:
        return has_media(self.session, f)

    def textless_count(self, f: ExportFilter) -> int:
        return textless_count(self.session, f)

    def vote_chunks(self, f: ExportFilter, *, size: int = 10_000, names: Lookups | None = None) -> Iterator[Chunk]:
        return vote_chunks(self.session, f, size=size, names=names)

    def pair_chunks(self, f: ExportFilter, *, size: int = 10_000, names: Lookups | None = None) -> Iterator[Chunk]:
        return pair_chunks(self.session, f, size=size, names=names)
