"""Queries the pool of ready rating items needs: which prompts are least covered, which
outputs already exist, and why a contender is being skipped."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from studio.store.schema import Generation, Prompt, RatingItem, Setting, utcnow
from studio.store.sql import Repo, chunked, insert_ignoring

PROBLEMS_KEY = "pool.problems"
# PostgreSQL advisory lock key under which the pool's writers pair stored outputs one at a
# time (workers topping up different contenders of one prompt set finish at the same moment).
PAIRING_LOCK = 0x5157_0002


class PoolRepo(Repo):
    def coverage(self, prompt_set: str) -> list[tuple[int, int]]:
        """(prompt id, rating items made for it) for every prompt of the set, by prompt id."""
        items = (select(RatingItem.prompt_id, func.count().label("n")).group_by(RatingItem.prompt_id)
                 .subquery())
        rows = self.session.execute(
            select(Prompt.id, func.coalesce(items.c.n, 0))
            .outerjoin(items, items.c.prompt_id == Prompt.id)
            .where(Prompt.prompt_set == prompt_set).order_by(Prompt.id))
        return [(prompt_id, count) for prompt_id, count in rows]

    def generations_for(self, prompt_ids: Sequence[int],
                        contender_ids: Sequence[int]) -> list[tuple[int, int, int]]:
        """(generation id, prompt id, contender id) of these prompts and contenders, oldest first."""
        if not contender_ids:
            return []
        found: list[tuple[int, int, int]] = []
        for part in chunked(sorted(set(prompt_ids)), 5000):
            found += [tuple(row) for row in self.session.execute(
                select(Generation.id, Generation.prompt_id, Generation.contender_id)
                .where(Generation.prompt_id.in_(part), Generation.contender_id.in_(set(contender_ids)))
                .order_by(Generation.id))]
        return found

    def contenders_of(self, generation_ids: Sequence[int]) -> dict[int, int]:
        """generation id -> contender id."""
        found: dict[int, int] = {}
        for part in chunked(sorted(set(generation_ids)), 5000):
            found.update(self.session.execute(
                select(Generation.id, Generation.contender_id).where(Generation.id.in_(part))).all())
        return found

    def lock_pairing(self) -> None:
        """Serialise pairing for the rest of this write transaction: SQLite writers hold the
        lock from BEGIN IMMEDIATE already; PostgreSQL takes a transaction-scoped advisory lock
        (so a second pairer's snapshot, taken after it waits, sees the first one's items)."""
        if self.dialect == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(PAIRING_LOCK)))

    def problems(self) -> dict[str, str]:
        """Why contenders were left out of the pool (contender name -> message)."""
        row = self.session.get(Setting, PROBLEMS_KEY)
        return dict(row.value) if row and isinstance(row.value, dict) else {}

    def set_problems(self, problems: dict[str, str]) -> None:
        self.session.execute(insert_ignoring(self.session, Setting.__table__, ["key"])
                             .values(key=PROBLEMS_KEY, value={}, updated_at=utcnow()))
        row = self.session.get(Setting, PROBLEMS_KEY)
        if row.value != problems:
            row.value = dict(problems)
            row.updated_at = utcnow()
        self.session.flush()
