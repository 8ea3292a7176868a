"""Gold items: pairs whose right answer an admin knows, served to every rater."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import delete, func, select

from studio.store.items import ItemRecord, _item_of
from studio.store.schema import OUTCOMES, Generation, GoldItem, RatingItem, utcnow
from studio.store.sql import Repo, upsert

GOLD_FRAME = ["item_id", "left_generation_id", "right_generation_id", "outcome"]


class GoldRepo(Repo):
    def mark(self, item_id: int, answer: str) -> None:
        """Make the item gold with this answer (as the item shows it), or change its answer."""
        if answer not in OUTCOMES:
            raise ValueError(f"answer must be one of {OUTCOMES}, got {answer!r}")
        self.session.execute(upsert(self.session, GoldItem.__table__, ["item_id"], update_columns=["answer"])
                             .values(item_id=item_id, answer=answer, created_at=utcnow()))

    def unmark(self, item_id: int) -> bool:
        return bool(self.session.execute(delete(GoldItem).where(GoldItem.item_id == item_id)).rowcount)

    def count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(GoldItem)) or 0

    def answers(self) -> pd.DataFrame:
        """GOLD_FRAME: each gold pair's generations in the item's order and its answer."""
        rows = self.session.execute(select(GoldItem.item_id, RatingItem.generation_ids, GoldItem.answer)
                                    .join(RatingItem, RatingItem.id == GoldItem.item_id)
                                    .where(RatingItem.kind == "pair").order_by(GoldItem.item_id)).all()
        return pd.DataFrame([(item, ids[0], ids[1], answer) for item, ids, answer in rows], columns=GOLD_FRAME)

    def pair_item(self, left: int, right: int) -> ItemRecord | None:
        """The oldest pair item showing these two generations (in either order)."""
        prompt = self.session.scalar(select(Generation.prompt_id).where(Generation.id == left))
        if prompt is None:
            return None
        for row in self.session.scalars(select(RatingItem).where(RatingItem.prompt_id == prompt,
                                                                 RatingItem.kind == "pair").order_by(RatingItem.id)):
            if set(row.generation_ids) == {left, right}:
                return _item_of(row)
        return None
