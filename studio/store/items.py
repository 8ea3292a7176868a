"""Rating items: the units the arena shows (a pair, or a grid of images to rank)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from studio.store.schema import RatingItem
from studio.store.sql import to_record


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
        row = self.session.get(RatingItem, item_id)
        return to_record(ItemRecord, row) if row else None
