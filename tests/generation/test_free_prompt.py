"""A rater's own prompt: both answers stream in, then it is rated like any pair."""

from __future__ import annotations

import pytest

from studio.errors import InputError


def test_a_free_prompt_streams_both_answers_then_becomes_a_pair_to_rate(text_studio):
    updates = list(text_studio.free_prompt("Write a line about the sea.", "ana", contenders=("gpt", "llama")))
    final = updates[-1]
    assert final.done and all(not u.done and u.item is None for u in updates[:-1])
    assert len(updates) > 2                                  # text arrived in pieces
    growing = [len(u.left) + len(u.right) for u in updates[:-1]]
    assert growing == sorted(growing)
    item = final.item
    assert item.prompt == "Write a line about the sea." and item.prompt_set == "free"
    assert {s.contender for s in item.sides} == {"gpt", "llama"}
    assert [s.text for s in item.sides] == [final.left, final.right]
    assert text_studio.next_item("ana").item_id == item.item_id   # it is this rater's open item
    assert text_studio.next_item("bo") is None                    # and nobody else's
    result = text_studio.vote(item.item_id, outcome="left", rater="ana", idempotency_key="free-1")
    assert result.created and result.comparison.prompt_id == item.prompt_id
    assert text_studio.refill_pool() == 0                          # the pool leaves free prompts alone


def test_a_free_prompt_stays_with_its_rater_after_the_lease_runs_out(text_studio):
    """Shown items left unvoted go to other raters after the lease; a free prompt's pair is
    the typing rater's own, however long they take."""
    from sqlalchemy import update

    from studio.errors import ConflictError
    from studio.store.items import LEASE
    from studio.store.schema import RatingAssignment, utcnow

    item = list(text_studio.free_prompt("Write a line about rain.", "ana", contenders=("gpt", "llama")))[-1].item
    with text_studio.store.transaction() as tx:     # ana went for lunch
        tx.session.execute(update(RatingAssignment).values(assigned_at=utcnow() - 3 * LEASE))
    assert text_studio.next_item("bo") is None
    with pytest.raises(ConflictError, match="never shown"):
        text_studio.vote(item.item_id, outcome="right", rater="bo", idempotency_key="bo-1")
    assert text_studio.next_item("ana").item_id == item.item_id
    assert text_studio.vote(item.item_id, outcome="left", rater="ana", idempotency_key="ana-1").created


def test_a_free_prompt_needs_text_and_two_contenders(text_studio):
    with pytest.raises(InputError, match="type a prompt"):
        next(text_studio.free_prompt("   ", "ana"))
    with pytest.raises(InputError, match="two different contenders"):
        next(text_studio.free_prompt("Hi", "ana", contenders=("gpt", "gpt")))
