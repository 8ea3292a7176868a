"""Votes: one on a pair, a ranking of a grid, and the arena's click (a vote and the rater's
next item committed together, sharing the commit with other raters' concurrent clicks).

A vote on an item is bound to what the rater was shown: it counts only while the item is
open for them (assigned by `next_item`, a free prompt, not voted on yet). A second vote on
the same item, under any key, writes nothing and returns the first (`VoteResult.duplicate`);
an item never shown to them, or a key already used for another vote, raises ConflictError
and writes nothing (in `vote_and_next`, the next item is not assigned either).

Every new vote is announced, after its commit, to the listeners registered with `on_vote`
(the training service counts them towards the next retrain). A retry with the same
idempotency key writes nothing and announces nothing.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence

from studio.config import StudioConfig
from studio.errors import InputError, NotFoundError
from studio.generation.grids import ranking_comparisons, ranking_group
from studio.records import ItemView, VoteIn, VoteResult, as_id
from studio.store import Store

VoteListener = Callable[[VoteResult], None]


class Voting:
    def __init__(self, store: Store, config: StudioConfig):
        self.store = store
        self.config = config
        self._listeners: list[VoteListener] = []
        self._gold_draws = random.Random(f"gold:{config.pool.seed}")

    def _gold_turn(self) -> bool:
        """Whether the rater's next item is a gold one (when one is left for them): a draw
        at `[pool] gold_rate`, so raters cannot tell from their stream which items are gold."""
        rate = self.config.pool.gold_rate
        return rate > 0 and self._gold_draws.random() < rate

    def on_vote(self, listener: VoteListener) -> None:
        """Call `listener(result)` once for each new vote, after its commit."""
        self._listeners.append(listener)

    def vote(self, item_id: int | None = None, *, outcome: str, rater: str, left: int | None = None,
             right: int | None = None, idempotency_key: str | None = None, rationale: str | None = None,
             decision_ms: int | None = None, session_id: str | None = None, group_id: str | None = None,
             source: str = "ui") -> VoteResult:
        key = idempotency_key or uuid.uuid4().hex
        item_id = None if item_id is None else as_id(item_id, "item_id")
        left = None if left is None else as_id(left, "left")
        right = None if right is None else as_id(right, "right")
        with self.store.transaction() as tx:
            if item_id is not None:
                left, right = _pair_sides(tx, item_id)
            if left is None or right is None:
                raise InputError("vote on a rating item, or give both `left` and `right` generation ids")
            result = tx.votes.record(VoteIn(
                left_generation_id=left, right_generation_id=right, outcome=outcome, rater=rater,
                idempotency_key=key, rationale=rationale or None, decision_ms=decision_ms,
                session_id=session_id, group_id=group_id, item_id=item_id, source=source))
        self._announce([result])
        return result

    def vote_and_next(self, item_id: int, *, outcome: str, rater: str, idempotency_key: str,
                      rationale: str | None = None, decision_ms: int | None = None,
                      session_id: str | None = None, prompt_set: str | None = None,
                      shape: str | None = "pair") -> tuple[VoteResult, ItemView | None]:
        item_id = as_id(item_id, "item_id")
        gold = self._gold_turn()

        def work(tx):
            left, right = _pair_sides(tx, item_id)
            rater_id = tx.raters.id_for(rater)
            result = tx.votes.record(VoteIn(
                left_generation_id=left, right_generation_id=right, outcome=outcome, rater=rater,
                idempotency_key=idempotency_key, rationale=rationale or None, decision_ms=decision_ms,
                session_id=session_id, item_id=item_id, source="ui"), rater_id=rater_id)
            following = tx.items.next_for_rater(rater_id, prompt_set=prompt_set, shape=shape, gold=gold)
            return result, tx.items.view(following) if following else None

        # Concurrent raters' clicks share one commit (store.grouped): one fsync for many votes.
        result, view = self.store.grouped(work)
        self._announce([result])
        return result, view

    def next_item(self, rater: str, *, prompt_set: str | None = None, shape: str | None = None) -> ItemView | None:
        with self.store.transaction() as tx:
            rater_id = tx.raters.id_for(rater)
            item = tx.items.next_for_rater(rater_id, prompt_set=prompt_set, shape=shape, gold=self._gold_turn())
            return tx.items.view(item) if item else None

    def rank(self, item_id: int, order: Sequence[int], *, rater: str, idempotency_key: str,
             decision_ms: int | None = None, session_id: str | None = None) -> list[VoteResult]:
        item_id = as_id(item_id, "item_id")
        order = [as_id(g, "a generation id in order") for g in order]
        with self.store.transaction() as tx:
            item = tx.items.get(item_id)
            if item is None:
                raise NotFoundError(f"no rating item with id {item_id}")
            group = ranking_group(idempotency_key)
            results = tx.votes.record_ranking([VoteIn(
                left_generation_id=c.left, right_generation_id=c.right, outcome=c.outcome, rater=rater,
                idempotency_key=c.key, decision_ms=decision_ms, session_id=session_id, group_id=group,
                item_id=item_id) for c in ranking_comparisons(item.generation_ids, order, idempotency_key)])
        self._announce(results)
        return results

    def _announce(self, results: Sequence[VoteResult]) -> None:
        for result in results:
            if result.created:
                for listener in self._listeners:
                    listener(result)


def _pair_sides(tx, item_id: int) -> tuple[int, int]:
    """The two generations of a pair item, in display order: the one check every vote on an
    item goes through (the click, the API, a notebook)."""
    item = tx.items.get(item_id)
    if item is None:
        raise NotFoundError(f"no rating item with id {item_id}")
    if item.shape != "pair":
        raise InputError(f"item {item_id} is a ranking grid: record it with rank()")
    left, right = item.generation_ids
    return left, right
