"""Rating items: the units the arena shows (a pair, or a grid of images to rank)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import Session

from studio.records import ItemView, SideView
from studio.store.schema import Contender, Generation, Prompt, RatingAssignment, RatingItem, utcnow
from studio.store.sql import chunked, dialect, insert_ignoring, to_record

# An item shown to a rater who never voted is offered to others again after this long.
LEASE = timedelta(minutes=10)
# PostgreSQL advisory lock key under which raters pick their next item one at a time.
PICK_LOCK = 0x5157_0001


@dataclass(frozen=True)
class ItemRecord:
    id: int
    kind: str
    prompt_id: int
    prompt_set: str
    generation_ids: list[int]
    votes_wanted: int
    votes_received: int
    source: str
    created_at: datetime


class ItemRepo:
    def __init__(self, session: Session):
        self.session = session

    def create(self, prompt_id: int, generation_ids: Sequence[int], *, prompt_set: str = "default",
               votes_wanted: int = 1, source: str = "pool") -> ItemRecord:
        """A new item; `generation_ids` is the display order (left to right), already shuffled."""
        kind = "pair" if len(generation_ids) == 2 else "grid"
        if len(generation_ids) < 2 or len(set(generation_ids)) != len(generation_ids):
            raise ValueError("an item shows at least two different generations")
        row = RatingItem(kind=kind, prompt_id=prompt_id, prompt_set=prompt_set,
                         generation_ids=list(generation_ids), votes_wanted=votes_wanted, source=source)
        self.session.add(row)
        self.session.flush()
        return to_record(ItemRecord, row)

    def get(self, item_id: int) -> ItemRecord | None:
        row = self.session.execute(_ITEM.where(RatingItem.id == item_id)).one_or_none()
        return _item(row) if row else None

    def next_for_rater(self, rater_id: int, *, prompt_set: str | None = None,
                       kind: str | None = None) -> ItemRecord | None:
        """The item this rater should see next, and record that it was shown to them.

        A rater's own unfinished item comes first (a reload shows the same pair again);
        otherwise the oldest open item they have never been shown, skipping items whose
        wanted votes are already covered by other raters' recent, unfinished views.

        Picking is serialised, so two raters clicking at the same moment never share an item
        that wants one vote: SQLite writers already hold the lock from BEGIN; on PostgreSQL a
        transaction-scoped advisory lock does the same (a row lock is not enough: the other
        transaction's snapshot would not see the new assignment).
        """
        pending = self.session.execute(
            _ITEM.join(RatingAssignment, RatingAssignment.item_id == RatingItem.id)
            .where(RatingAssignment.rater_id == rater_id, RatingAssignment.completed_at.is_(None),
                   RatingItem.votes_received < RatingItem.votes_wanted, *_filters(prompt_set, kind))
            .order_by(RatingItem.id).limit(1)).one_or_none()
        if pending is not None:
            return _item(pending)
        if dialect(self.session) == "postgresql":
            self.session.execute(select(func.pg_advisory_xact_lock(PICK_LOCK)))
        now = utcnow()
        in_flight = (select(func.count()).select_from(RatingAssignment)
                     .where(RatingAssignment.item_id == RatingItem.id, RatingAssignment.completed_at.is_(None),
                            RatingAssignment.assigned_at > now - LEASE).scalar_subquery())
        seen = exists().where(and_(RatingAssignment.item_id == RatingItem.id, RatingAssignment.rater_id == rater_id))
        query = (_ITEM.where(RatingItem.votes_received < RatingItem.votes_wanted, ~seen,
                             RatingItem.votes_received + in_flight < RatingItem.votes_wanted,
                             *_filters(prompt_set, kind))
                 .order_by(RatingItem.id).limit(1))
        row = self.session.execute(query).one_or_none()
        if row is None:
            return None
        self.session.execute(insert(RatingAssignment).values(item_id=row.id, rater_id=rater_id, assigned_at=now))
        return _item(row)

    def open_count(self, prompt_set: str | None = None) -> int:
        """Items still wanting votes."""
        return self.session.scalar(select(func.count()).select_from(RatingItem).where(
            RatingItem.votes_received < RatingItem.votes_wanted, *_filters(prompt_set, None))) or 0

    def ready_count(self, prompt_set: str | None = None, kind: str | None = None) -> int:
        """Items a rater could be handed now: still wanting votes beyond those received and
        those promised by recent, unfinished views (what the pool keeps topped up)."""
        in_flight = (select(func.count()).select_from(RatingAssignment)
                     .where(RatingAssignment.item_id == RatingItem.id, RatingAssignment.completed_at.is_(None),
                            RatingAssignment.assigned_at > utcnow() - LEASE).scalar_subquery())
        return self.session.scalar(select(func.count()).select_from(RatingItem).where(
            RatingItem.votes_received + in_flight < RatingItem.votes_wanted, *_filters(prompt_set, kind))) or 0

    def for_prompts(self, prompt_ids: Sequence[int]) -> list[ItemRecord]:
        """Every item showing one of these prompts, oldest first."""
        found: list[ItemRecord] = []
        for part in chunked(sorted(set(prompt_ids)), 5000):
            found += [to_record(ItemRecord, row) for row in self.session.scalars(
                select(RatingItem).where(RatingItem.prompt_id.in_(part)).order_by(RatingItem.id))]
        return found

    def assign(self, item_id: int, rater_id: int) -> None:
        """Record that the item is shown to this rater (their open item until they vote)."""
        self.session.execute(insert_ignoring(self.session, RatingAssignment.__table__, ["item_id", "rater_id"])
                             .values(item_id=item_id, rater_id=rater_id, assigned_at=utcnow()))

    def add_votes(self, item_id: int, delta: int) -> None:
        """Correct an item's received-vote count (a ranking of a grid counts as one vote
        although it is stored as several pairwise comparisons)."""
        self.session.execute(update(RatingItem).where(RatingItem.id == item_id)
                             .values(votes_received=RatingItem.votes_received + delta))

    def view(self, item: ItemRecord) -> ItemView:
        rows = self.session.execute(
            select(Generation.id, Contender.name, Contender.kind, Generation.text, Generation.media_path,
                   Prompt.text)
            .join(Contender, Contender.id == Generation.contender_id)
            .join(Prompt, Prompt.id == Generation.prompt_id)
            .where(Generation.id.in_(item.generation_ids))).all()
        by_id = {row[0]: SideView(*row[:5]) for row in rows}
        return ItemView(item_id=item.id, kind=item.kind, prompt_id=item.prompt_id, prompt=rows[0][5],
                        prompt_set=item.prompt_set, sides=tuple(by_id[g] for g in item.generation_ids))

_ITEM = select(*RatingItem.__table__.c)


def _item(row) -> ItemRecord:
    return ItemRecord(**{name: row._mapping[name] for name in ItemRecord.__dataclass_fields__})


def _filters(prompt_set: str | None, kind: str | None) -> list:
    conditions = []
    if prompt_set is not None:
        conditions.append(RatingItem.prompt_set == prompt_set)
    if kind is not None:
        conditions.append(RatingItem.kind == kind)
    return conditions
