"""Votes (comparisons): written once per idempotency key, whatever the retries."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import bindparam, select, update

from studio.errors import ConflictError, InputError, NotFoundError
from studio.records import MAX_IDEMPOTENCY_KEY, ComparisonRecord, VoteIn, VoteResult
from studio.store.counted import counted_votes
from studio.store.raters import RaterRepo
from studio.store.schema import (
    OUTCOMES,
    Comparison,
    Generation,
    RatingAssignment,
    RatingItem,
    utcnow,
)
from studio.store.sql import Repo, chunked, insert_ignoring


class VoteRepo(Repo):
    def record(self, vote: VoteIn, *, rater_id: int | None = None) -> VoteResult:
        """Write one comparison, or return the one already written under this key.

        A vote on an item counts only while the item is open for this rater (shown to them,
        not voted on): a second vote on it, whatever its key, writes nothing and returns the
        first (`duplicate`); an item never shown to the rater is refused (ConflictError).
        A vote on two generations without an item (a notebook, a script) is bound to no item.

        This is the arena's hot path, so it stays in a handful of Core statements: the insert
        itself tells a first request (a row comes back) from a retry (nothing comes back)."""
        _check(vote)
        if rater_id is None:
            rater_id = RaterRepo(self.session).id_for(vote.rater)
        row = _row(vote, rater_id, self._sides(vote.left_generation_id, vote.right_generation_id))
        if vote.item_id is not None:
            return self._on_item(vote.item_id, rater_id, [row], vote.rater)[0]
        inserted = self.connection.execute(_insert_returning(self.dialect, True), row).one_or_none()
        if inserted is None:  # the key was used before (a retry, or a concurrent twin)
            return VoteResult(self.by_key(vote.idempotency_key), created=False)
        return VoteResult(_comparison(inserted), created=True)

    def record_ranking(self, votes: Sequence[VoteIn], *, rater_id: int | None = None) -> list[VoteResult]:
        """The comparisons of one ranking of an item, as one vote on it (the rules of
        `record`: one ranking per rater per grid, only on a grid shown to them)."""
        if not votes or len({v.item_id for v in votes}) != 1 or votes[0].item_id is None:
            raise ValueError("a ranking is one or more comparisons on one item")
        for vote in votes:
            _check(vote)
        if rater_id is None:
            rater_id = RaterRepo(self.session).id_for(votes[0].rater)
        rows = [_row(v, rater_id, self._sides(v.left_generation_id, v.right_generation_id)) for v in votes]
        return self._on_item(votes[0].item_id, rater_id, rows, votes[0].rater)

    def record_many(self, votes: Sequence[VoteIn]) -> int:
        """Bulk insert (importers): skip keys already present; return how many were new."""
        for vote in votes:
            _check(vote)
        raters = RaterRepo(self.session).ids_by_name([v.rater for v in votes])
        generation_ids = {g for v in votes for g in (v.left_generation_id, v.right_generation_id)}
        sides_by_id = self._generations(generation_ids)
        rows = []
        for vote in votes:
            left, right = vote.left_generation_id, vote.right_generation_id
            sides = (sides_by_id[left], sides_by_id[right])
            rows.append(_row(vote, raters[vote.rater], sides))
        before = self._count_keys([r["idempotency_key"] for r in rows])
        statement = insert_ignoring(self.session, Comparison.__table__, ["idempotency_key"])
        for part in chunked(rows, 2000):
            self.session.execute(statement, list(part))
        return len({r["idempotency_key"] for r in rows}) - before

    def by_key(self, key: str) -> ComparisonRecord | None:
        row = self.connection.execute(_BY_KEY, {"key": key}).one_or_none()
        return _comparison(row) if row else None

    def by_id(self, comparison_id: int) -> ComparisonRecord:
        table = Comparison.__table__
        row = self.session.execute(select(*table.c).where(table.c.id == comparison_id)).one_or_none()
        if row is None:
            raise NotFoundError(f"no comparison with id {comparison_id}")
        return _comparison(row)

    def _count_keys(self, keys: list[str]) -> int:
        total = 0
        for part in chunked(sorted(set(keys)), 5000):
            total += len(self.session.scalars(
                select(Comparison.id).where(Comparison.idempotency_key.in_(part))).all())
        return total

    def _generations(self, ids: set[int]) -> dict[int, tuple[int, int]]:
        """generation id -> (prompt id, contender id)."""
        found: dict[int, tuple[int, int]] = {}
        for part in chunked(sorted(ids), 5000):
            rows = self.session.execute(select(Generation.id, Generation.prompt_id, Generation.contender_id)
                                        .where(Generation.id.in_(part)))
            found.update({i: (p, c) for i, p, c in rows})
        _require_all(ids, found)
        return found

    def _sides(self, left: int, right: int) -> tuple[tuple[int, int], tuple[int, int]]:
        found = {i: (p, c) for i, p, c in self.connection.execute(_SIDES, {"left": left, "right": right})}
        _require_all({left, right}, found)
        return found[left], found[right]

    def _on_item(self, item_id: int, rater_id: int, rows: list[dict], rater: str) -> list[VoteResult]:
        """One vote on an item (a pair's comparison, or a ranking's): claim the rater's open
        view of the item, then write. Claiming first serialises one rater's concurrent votes
        on one item (the UPDATE takes the row's lock; a second one finds it closed), and the
        unique index on (item_id, rater_id) stands behind it. Any refusal raises, so the
        caller's transaction (or savepoint) undoes the claim."""
        connection = self.connection
        now = utcnow()
        claimed = connection.execute(_CLAIM, {"on_item": item_id, "by_rater": rater_id, "closed_at": now}).rowcount
        if not claimed:
            return self._existing(item_id, rater_id, rows[0]["idempotency_key"]) or self._refuse(item_id, rater_id, rater)
        written = []
        for part, row in enumerate(rows):
            inserted = connection.execute(_insert_returning(self.dialect, False), {**row, "vote_part": part}).one_or_none()
            if inserted is None:
                found = self._existing(item_id, rater_id, row["idempotency_key"]) if part == 0 else []
                if found:
                    return found
                raise ConflictError(f"idempotency key {row['idempotency_key']!r} is already used by another vote: "
                                    "send a new key for a new vote")
            written.append(VoteResult(_comparison(inserted), created=True))
        connection.execute(_COUNT_VOTE, {"target_id": item_id})
        return written

    def _existing(self, item_id: int, rater_id: int, key: str) -> list[VoteResult]:
        """What is stored for this vote: its own rows under this key (a retry), the rater's
        earlier vote on the item under another key (a duplicate), or nothing."""
        first = self.by_key(key)
        if first is not None:
            if (first.item_id, first.rater_id) != (item_id, rater_id):
                where = f"item {first.item_id}" if first.item_id is not None else "two generations"
                raise ConflictError(f"idempotency key {key!r} was already used for a vote on {where}: "
                                    "send a new key for a new vote")
            return [VoteResult(c, created=False) for c in self._rows_like(first)]
        stored = self.connection.execute(_VOTE_ON_ITEM, {"on_item": item_id, "by_rater": rater_id}).all()
        return [VoteResult(_comparison(c), created=False, duplicate=True) for c in _one_vote(stored)]

    def _rows_like(self, first: ComparisonRecord) -> list[ComparisonRecord]:
        """The rows of the vote `first` belongs to (a ranking has several)."""
        if first.group_id is None:
            return [first]
        rows = self.connection.execute(_RANKING_ROWS, {"on_item": first.item_id, "by_rater": first.rater_id,
                                                       "group_id": first.group_id}).all()
        return [_comparison(r) for r in rows] or [first]

    def _refuse(self, item_id: int, rater_id: int, rater: str) -> list[VoteResult]:
        shown = self.connection.execute(_SHOWN, {"on_item": item_id, "by_rater": rater_id}).one_or_none()
        if shown is None:
            raise ConflictError(f"item {item_id} was never shown to rater {rater!r}: vote on the items "
                                "next_item (or GET /api/next) hands you")
        raise ConflictError(f"item {item_id} is no longer open for rater {rater!r}: ask for your next item")


def _one_vote(rows) -> list:
    """The counted vote among a rater's rows on an item: the part-0 row and, for a ranking,
    the rows of its group (ordered by part)."""
    heads = [r for r in rows if r.vote_part == 0]
    if not heads:
        return []
    head = heads[0]
    if head.group_id is None:
        return [head]
    return [r for r in rows if r.group_id == head.group_id]


# The arena's statements, built once: SQLAlchemy reuses their compiled form on every vote.
_votes, _generation = Comparison.__table__.c, Generation.__table__.c
_BY_KEY = select(*Comparison.__table__.c).where(_votes.idempotency_key == bindparam("key"))
_SIDES = (select(_generation.id, _generation.prompt_id, _generation.contender_id)
          .where(_generation.id.in_([bindparam("left"), bindparam("right")])))
_COUNT_VOTE = (update(RatingItem.__table__).where(RatingItem.__table__.c.id == bindparam("target_id"))
               .values(votes_received=RatingItem.__table__.c.votes_received + 1))
_assignment = RatingAssignment.__table__.c
_THIS_VIEW = (_assignment.item_id == bindparam("on_item"), _assignment.rater_id == bindparam("by_rater"))
# The rater's open view of the item, closed by this vote (no row changed: not open for them).
_CLAIM = (update(RatingAssignment.__table__).where(*_THIS_VIEW, _assignment.completed_at.is_(None))
          .values(completed_at=bindparam("closed_at")))
_SHOWN = select(_assignment.completed_at).where(*_THIS_VIEW)
_ON_ITEM = (_votes.item_id == bindparam("on_item"), _votes.rater_id == bindparam("by_rater"))
_VOTE_ON_ITEM = (select(*Comparison.__table__.c).where(*_ON_ITEM, counted_votes(include_excluded=True))
                 .order_by(_votes.vote_part, _votes.id))
_RANKING_ROWS = (select(*Comparison.__table__.c).where(*_ON_ITEM, _votes.group_id == bindparam("group_id"))
                 .order_by(_votes.vote_part, _votes.id))


@cache
def _insert_returning(dialect_name: str, key_only: bool):
    """A new comparison, or nothing when it conflicts (then no row comes back): with its
    idempotency key only, or (`key_only` False, votes on items) with any unique index, the
    one vote per rater per item included."""
    columns = ["idempotency_key"] if key_only else None
    return insert_ignoring(dialect_name, Comparison.__table__, columns).returning(*Comparison.__table__.c)


def _require_all(ids: set[int], found: dict[int, tuple[int, int]]) -> None:
    missing = ids - set(found)
    if missing:
        raise NotFoundError(f"no generation with id {min(missing)}: vote on generations the studio stored")


def _check(vote: VoteIn) -> None:
    if vote.outcome not in OUTCOMES:
        raise InputError(f"outcome must be one of {', '.join(OUTCOMES)}, got {vote.outcome!r}")
    if not vote.idempotency_key or len(vote.idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InputError(f"an idempotency key of 1 to {MAX_IDEMPOTENCY_KEY} characters is required")
    if vote.left_generation_id == vote.right_generation_id:
        raise InputError("a vote compares two different generations; both sides are the same one")
    if not vote.rater or not vote.rater.strip():
        raise InputError("a vote needs a rater name")
    if vote.decision_ms is not None and vote.decision_ms < 0:
        raise InputError(f"decision time must be >= 0 ms, got {vote.decision_ms}")


def _comparison(row) -> ComparisonRecord:
    return ComparisonRecord(**{name: row._mapping[name] for name in ComparisonRecord.__dataclass_fields__})


def _row(vote: VoteIn, rater_id: int, sides) -> dict:
    (left_prompt, left_contender), (right_prompt, right_contender) = sides
    if left_prompt != right_prompt:
        raise InputError("both sides of a vote must answer the same prompt "
                         f"(generations {vote.left_generation_id} and {vote.right_generation_id} do not)")
    return {
        "item_id": vote.item_id, "prompt_id": left_prompt,
        "left_generation_id": vote.left_generation_id, "right_generation_id": vote.right_generation_id,
        "left_contender_id": left_contender, "right_contender_id": right_contender,
        "rater_id": rater_id, "outcome": vote.outcome, "rationale": vote.rationale,
        "decision_ms": vote.decision_ms, "idempotency_key": vote.idempotency_key,
        "session_id": vote.session_id, "group_id": vote.group_id, "source": vote.source,
        "created_at": vote.created_at or utcnow(),
    }
