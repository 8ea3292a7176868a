"""Gold items: an admin marks a pair's right answer (one at a time, or from a file), the
arena mixes them into each rater's stream (`Voting`, at `[pool] gold_rate`, never twice to
one rater), and the raters view scores each rater's votes on them (`RaterReview`)."""

from __future__ import annotations

import os

import pandas as pd

from studio.errors import InputError, NotFoundError
from studio.store import Store

_SWAPPED = {"left": "right", "right": "left", "tie": "tie", "both_bad": "both_bad"}


class GoldItems:
    def __init__(self, store: Store):
        self.store = store

    def mark(self, item_id: int, answer: str) -> None:
        """Make a pair item gold: `answer` (left, right, tie, both_bad) as the item shows it."""
        from studio.exchange.gold import ANSWERS

        if answer not in ANSWERS:
            raise InputError(f"the gold answer must be one of {', '.join(ANSWERS)}, got {answer!r}")
        with self.store.transaction() as tx:
            _require_pair(tx, item_id, f"item {item_id}")
            tx.gold.mark(item_id, answer)

    def unmark(self, item_id: int) -> bool:
        with self.store.transaction() as tx:
            return tx.gold.unmark(item_id)

    def import_file(self, path: str | os.PathLike[str]) -> int:
        """Mark every pair of a gold JSON Lines file (`exchange.gold`), all or nothing;
        returns how many lines were read. A pair named by its generations that no item
        shows yet gets a new item (source 'gold', wanting no ordinary votes)."""
        from studio.exchange.gold import read_gold

        lines = read_gold(path)
        with self.store.transaction() as tx:
            for line in lines:
                where = f"{path}:{line.line}"
                if line.item_id is not None:
                    _require_pair(tx, line.item_id, where + f": item {line.item_id}")
                    tx.gold.mark(line.item_id, line.answer)
                    continue
                item = tx.gold.pair_item(line.left, line.right) or _new_item(tx, line.left, line.right, where)
                answer = line.answer if item.generation_ids[0] == line.left else _SWAPPED[line.answer]
                tx.gold.mark(item.id, answer)
        return len(lines)

    def answers(self) -> pd.DataFrame:
        """item_id, left_generation_id, right_generation_id (as the item shows them), outcome."""
        with self.store.reader() as tx:
            return tx.gold.answers()


def _require_pair(tx, item_id: int, what: str) -> None:
    item = tx.items.get(item_id)
    if item is None:
        raise NotFoundError(f"{what}: no such rating item")
    if item.shape != "pair":
        raise InputError(f"{what} is a ranking grid: gold answers are for pairs")


def _new_item(tx, left: int, right: int, where: str):
    sides = tx.generations.many([left, right])
    for side in (left, right):
        if side not in sides:
            raise NotFoundError(f"{where}: no generation with id {side}")
    if sides[left].prompt_id != sides[right].prompt_id:
        raise InputError(f"{where}: generations {left} and {right} answer different prompts")
    prompt = tx.prompts.get(sides[left].prompt_id)
    return tx.items.create(prompt.id, [left, right], prompt_set=prompt.prompt_set, votes_wanted=0, source="gold")
