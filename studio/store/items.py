"""Rating items: the units the arena shows (a pair, or a grid of images to rank)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select

from studio.records import ItemView, SideView
from studio.store.schema import (
    Contender,
    Generation,
    GoldItem,
    Prompt,
    RatingAssignment,
    RatingItem,
    utcnow,
)
from studio.store.sql import Repo, chunked, insert_ignoring

# An item shown to a rater who never voted is offered to others again after this long.
LEASE = timedelta(minutes=10)
# The source of a free-prompt item: it belongs to the rater who typed the prompt (assigned
# when made) and is never picked for anyone else, leased out or not.
FREE_PROMPT_SOURCE = "free"
# PostgreSQL advisory lock key under which raters pick their next item one at a time.
PICK_LOCK = 0x5157_0001


@dataclass(frozen=True)
class ItemRecord:
    id: int
    shape: str                        # pair | grid (the table's `kind` column)
    prompt_id: int
    prompt_set: str
    generation_ids: list[int]
    votes_wanted: int
    votes_received: int
    source: str
    created_at: datetime


class ItemRepo(Repo):
    def create(self, prompt_id: int, generation_ids: Sequence[int], *, prompt_set: str = "default",
               votes_wanted: int = 1, source: str = "pool") -> ItemRecord:
        """A new item; `generation_ids` is the display order (left to right), already shuffled."""
        shape = "pair" if len(generation_ids) == 2 else "grid"
        if len(generation_ids) < 2 or len(set(generation_ids)) != len(generation_ids):
            raise ValueError("an item shows at least two different generations")
        row = RatingItem(kind=shape, prompt_id=prompt_id, prompt_set=prompt_set,
                         generation_ids=list(generation_ids), votes_wanted=votes_wanted, source=source)
        self.session.add(row)
        self.session.flush()
        return _item_of(row)

    def get(self, item_id: int) -> ItemRecord | None:
        row = self.connection.execute(_GET, {"item_id": item_id}).one_or_none()
        return _item(row) if row else None

    def next_for_rater(self, rater_id: int, *, prompt_set: str | None = None,
                       shape: str | None = None, gold: bool = False) -> ItemRecord | None:
        """The item this rater should see next, and record that it was shown to them.

        A rater's own unfinished item comes first (a reload shows the same pair again);
        then, when `gold`, the oldest gold item they have never been shown (gold items are
        for everyone: their wanted votes do not limit them); otherwise the oldest open item
        they have never been shown, skipping items whose wanted votes are already covered by
        other raters' recent, unfinished views.

        Picking is serialised, so two raters clicking at the same moment never share an item
        that wants one vote: SQLite writers already hold the lock from BEGIN; on PostgreSQL a
        transaction-scoped advisory lock does the same (a row lock is not enough: the other
        transaction's snapshot would not see the new assignment).
        """
        connection = self.connection
        params = {"rater_id": rater_id, "prompt_set": prompt_set, "shape": shape}
        pending = connection.execute(_pending(prompt_set is not None, shape is not None), params).one_or_none()
        if pending is not None:
            return _item(pending)
        if self.dialect == "postgresql":
            connection.execute(_PICK_LOCK)
        now = utcnow()
        row = connection.execute(_gold_pick(prompt_set is not None, shape is not None), params).one_or_none() \
            if gold else None
        if row is None:
            row = connection.execute(_pick(prompt_set is not None, shape is not None),
                                     {**params, "lease_start": now - LEASE}).one_or_none()
        if row is None:
            return None
        connection.execute(_ASSIGN, {"item_id": row.id, "rater_id": rater_id, "assigned_at": now})
        return _item(row)

    def open_count(self, prompt_set: str | None = None) -> int:
        """Items still wanting votes."""
        return self.session.scalar(select(func.count()).select_from(RatingItem).where(
            RatingItem.votes_received < RatingItem.votes_wanted, *_filters(prompt_set, None))) or 0

    def ready_count(self, prompt_set: str | None = None, shape: str | None = None) -> int:
        """Items a rater could be handed now: still wanting votes beyond those received and
        those promised by recent, unfinished views (what the pool keeps topped up)."""
        in_flight = _in_flight(utcnow() - LEASE)
        # (the first condition follows from the second; stated, it lets the partial index serve)
        return self.session.scalar(select(func.count()).select_from(RatingItem).where(
            RatingItem.votes_received < RatingItem.votes_wanted,
            RatingItem.votes_received + in_flight < RatingItem.votes_wanted, *_filters(prompt_set, shape))) or 0

    def for_prompts(self, prompt_ids: Sequence[int]) -> list[ItemRecord]:
        """Every item showing one of these prompts, oldest first."""
        found: list[ItemRecord] = []
        for part in chunked(sorted(set(prompt_ids)), 5000):
            found += [_item_of(row) for row in self.session.scalars(
                select(RatingItem).where(RatingItem.prompt_id.in_(part)).order_by(RatingItem.id))]
        return found

    def assign(self, item_id: int, rater_id: int) -> None:
        """Record that the item is shown to this rater (their open item until they vote)."""
        self.session.execute(insert_ignoring(self.session, RatingAssignment.__table__, ["item_id", "rater_id"])
                             .values(item_id=item_id, rater_id=rater_id, assigned_at=utcnow()))

    def view(self, item: ItemRecord) -> ItemView:
        ids = item.generation_ids
        rows = self.connection.execute(_view(len(ids)), {f"g{i}": g for i, g in enumerate(ids)}).all()
        by_id = {row[0]: SideView(*row[:5]) for row in rows}
        return ItemView(item_id=item.id, shape=item.shape, prompt_id=item.prompt_id, prompt=rows[0][5],
                        prompt_set=item.prompt_set, sides=tuple(by_id[g] for g in item.generation_ids))

# The arena's statements are built once (SQLAlchemy then reuses their compiled form without
# rebuilding or re-keying them on every click), with the values bound at execution.
_ITEM = select(*RatingItem.__table__.c)
_items, _assignments = RatingItem.__table__.c, RatingAssignment.__table__.c
_GET = _ITEM.where(_items.id == bindparam("item_id"))
_ASSIGN = insert(RatingAssignment.__table__)
_PICK_LOCK = select(func.pg_advisory_xact_lock(PICK_LOCK))


@cache
def _view(sides: int):
    """The texts of an item's `sides` generations with their contenders and prompt (bound
    one by one: an expanding IN list would be re-rendered on every click)."""
    g, c, p = Generation.__table__, Contender.__table__, Prompt.__table__
    return (select(g.c.id, c.c.name, c.c.kind, g.c.text, g.c.media_path, p.c.text).select_from(g)
            .join(c, c.c.id == g.c.contender_id).join(p, p.c.id == g.c.prompt_id)
            .where(g.c.id.in_([bindparam(f"g{i}") for i in range(sides)])))


def _bound_filters(by_prompt_set: bool, by_shape: bool) -> list:
    conditions = []
    if by_prompt_set:
        conditions.append(_items.prompt_set == bindparam("prompt_set"))
    if by_shape:
        conditions.append(_items.kind == bindparam("shape"))
    return conditions


@cache
def _pending(by_prompt_set: bool, by_shape: bool):
    """The rater's own open item (shown, not voted on), oldest first."""
    return (_ITEM.join(RatingAssignment.__table__, _assignments.item_id == _items.id)
            .where(_assignments.rater_id == bindparam("rater_id"), _assignments.completed_at.is_(None),
                   or_(_items.votes_received < _items.votes_wanted, _is_gold()),
                   *_bound_filters(by_prompt_set, by_shape))
            .order_by(_items.id).limit(1))


def _is_gold():
    return exists().where(GoldItem.__table__.c.item_id == _items.id)


@cache
def _gold_pick(by_prompt_set: bool, by_shape: bool):
    """The oldest gold item this rater was never shown."""
    seen = exists().where(and_(_assignments.item_id == _items.id, _assignments.rater_id == bindparam("rater_id")))
    return (_ITEM.join(GoldItem.__table__, GoldItem.__table__.c.item_id == _items.id)
            .where(~seen, _items.source != FREE_PROMPT_SOURCE, *_bound_filters(by_prompt_set, by_shape))
            .order_by(_items.id).limit(1))


def _in_flight(lease_start):
    """Per item, the views handed out since `lease_start` and not voted on yet."""
    return (select(func.count()).select_from(RatingAssignment.__table__)
            .where(_assignments.item_id == _items.id, _assignments.completed_at.is_(None),
                   _assignments.assigned_at > lease_start).scalar_subquery())


@cache
def _pick(by_prompt_set: bool, by_shape: bool):
    """The oldest item wanting votes that this rater was never shown, counting recent
    unfinished views by others as promised votes; never someone's free-prompt item."""
    in_flight = _in_flight(bindparam("lease_start"))
    seen = exists().where(and_(_assignments.item_id == _items.id, _assignments.rater_id == bindparam("rater_id")))
    return (_ITEM.where(_items.votes_received < _items.votes_wanted, ~seen,
                        _items.votes_received + in_flight < _items.votes_wanted,
                        _items.source != FREE_PROMPT_SOURCE, *_bound_filters(by_prompt_set, by_shape))
            .order_by(_items.id).limit(1))


def _item(row) -> ItemRecord:
    values = row._mapping
    return ItemRecord(**{name: values["kind" if name == "shape" else name] for name in ItemRecord.__dataclass_fields__})


def _item_of(row: RatingItem) -> ItemRecord:
    return ItemRecord(**{name: getattr(row, "kind" if name == "shape" else name)
                         for name in ItemRecord.__dataclass_fields__})


def _filters(prompt_set: str | None, shape: str | None) -> list:
    conditions = []
    if prompt_set is not None:
        conditions.append(RatingItem.prompt_set == prompt_set)
    if shape is not None:
        conditions.append(RatingItem.kind == shape)
    return conditions
