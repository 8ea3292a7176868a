"""Votes (comparisons): written once per idempotency key, whatever the retries."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import bindparam, select, update

from studio.errors import InputError, NotFoundError
from studio.records import MAX_IDEMPOTENCY_KEY, ComparisonRecord, VoteIn, VoteResult
from studio.store.raters import RaterRepo
from studio.store.schema import (
    OUTCOMES,
    Comparison,
    Generation,
    RatingAssignment,
    RatingItem,
    utcnow,
)
from studio.store.sql import Repo, chunked, insert_ignoring, upsert


class VoteRepo(Repo):
    def record(self, vote: VoteIn, *, rater_id: int | None = None) -> VoteResult:
        """Write one comparison, or return the one already written under this key.

        This is the arena's hot path, so it stays in a handful of Core statements: the insert
        itself tells a first request (a row comes back) from a retry (nothing comes back)."""
        _check(vote)
        if rater_id is None:
            rater_id = RaterRepo(self.session).id_for(vote.rater)
        sides = self._sides(vote.left_generation_id, vote.right_generation_id)
        connection = self.connection
        inserted = connection.execute(_insert_returning(self.dialect),
                                      _row(vote, rater_id, sides)).one_or_none()
        if inserted is None:  # the key was used before (a retry, or a concurrent twin)
            return VoteResult(self.by_key(vote.idempotency_key), created=False)
        if vote.item_id is not None:
            self._count_on_item(vote.item_id, rater_id)
        return VoteResult(_comparison(inserted), created=True)

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

    def _count_on_item(self, item_id: int, rater_id: int) -> None:
        connection = self.connection
        connection.execute(_COUNT_VOTE, {"target_id": item_id})
        # Mark the rater's view of the item done, adding it when the vote came without one
        # (through the API), so the item is never offered to this rater again.
        now = utcnow()
        connection.execute(_complete_assignment(self.dialect),
                           {"item_id": item_id, "rater_id": rater_id, "assigned_at": now, "completed_at": now})


# The arena's statements, built once: SQLAlchemy reuses their compiled form on every vote.
_votes, _generation = Comparison.__table__.c, Generation.__table__.c
_BY_KEY = select(*Comparison.__table__.c).where(_votes.idempotency_key == bindparam("key"))
_SIDES = (select(_generation.id, _generation.prompt_id, _generation.contender_id)
          .where(_generation.id.in_([bindparam("left"), bindparam("right")])))
_COUNT_VOTE = (update(RatingItem.__table__).where(RatingItem.__table__.c.id == bindparam("target_id"))
               .values(votes_received=RatingItem.__table__.c.votes_received + 1))


@cache
def _insert_returning(dialect_name: str):
    """A new comparison, or nothing when its idempotency key is taken (then no row comes back)."""
    return insert_ignoring(dialect_name, Comparison.__table__, ["idempotency_key"]).returning(*Comparison.__table__.c)


@cache
def _complete_assignment(dialect_name: str):
    return upsert(dialect_name, RatingAssignment.__table__, ["item_id", "rater_id"], update_columns=["completed_at"])


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
