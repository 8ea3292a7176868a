"""Items shown to raters, for tests that make rating items directly: a vote on an item counts
only when the item was handed to the rater (as `next_item` or a free prompt does)."""

from __future__ import annotations


def show(studio, item_id: int, *raters: str) -> int:
    """Record that `item_id` is on screen for each of `raters` (their open item); returns it."""
    with studio.store.transaction() as tx:
        for rater in raters:
            tx.items.assign(item_id, tx.raters.id_for(rater))
    return item_id
