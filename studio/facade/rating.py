"""The arena's hot path on the `Studio` facade: a vote and the rater's next item in one
transaction, committed together with the other raters' concurrent clicks (group commit:
one fsync for many votes), so a click costs the database as little as it can."""

from __future__ import annotations

from studio.errors import InputError, NotFoundError
from studio.records import ItemView, VoteIn, VoteResult, as_id


class RatingFacade:
    def vote_and_next(self, item_id: int, *, outcome: str, rater: str, idempotency_key: str,
                      rationale: str | None = None, decision_ms: int | None = None,
                      session_id: str | None = None, prompt_set: str | None = None,
                      kind: str | None = "pair") -> tuple[VoteResult, ItemView | None]:
        """`vote(item_id, ...)` then `next_item(rater, ...)`, committed together: the vote is
        durable when this returns, and the next item is already assigned to the rater.
        Retrying with the same `idempotency_key` writes nothing and returns the rater's
        open item again."""
        item_id = as_id(item_id, "item_id")

        def work(tx):
            item = tx.items.get(item_id)
            if item is None:
                raise NotFoundError(f"no rating item with id {item_id}")
            if item.kind != "pair":
                raise InputError(f"item {item_id} is a ranking grid: record it with rank()")
            left, right = item.generation_ids
            rater_id = tx.raters.id_for(rater)
            result = tx.votes.record(VoteIn(
                left_generation_id=left, right_generation_id=right, outcome=outcome, rater=rater,
                idempotency_key=idempotency_key, rationale=rationale or None, decision_ms=decision_ms,
                session_id=session_id, item_id=item_id, source="ui"), rater_id=rater_id)
            following = tx.items.next_for_rater(rater_id, prompt_set=prompt_set, kind=kind)
            return result, tx.items.view(following) if following else None

        # Concurrent raters' clicks share one commit (store.grouped): one fsync for many votes.
        result, view = self.store.grouped(work)
        if result.created:
            self.after_vote(result)
        return result, view
