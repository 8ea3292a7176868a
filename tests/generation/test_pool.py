"""The pool keeps rating items ready, refills as they are consumed, never repeats an item
for a rater, and uses pre-generated outputs before generating new ones."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from studio.generation.pool import choose_prompts, plan_items


def rate_everything(studio, rater: str, seen: list[int]) -> int:
    votes = 0
    while (item := studio.next_item(rater)) is not None:
        assert item.item_id not in seen, "the same item was handed to the same rater twice"
        seen.append(item.item_id)
        studio.vote(item.item_id, outcome="left", rater=rater, idempotency_key=f"{rater}-{item.item_id}")
        votes += 1
    return votes


@pytest.fixture
def pool_studio(studio, text_specs):
    """The shared `studio` fixture (SQLite and PostgreSQL) with the tiny text contenders."""
    for spec in text_specs:
        studio.add_contender(spec)
    return studio


def test_the_pool_refills_after_items_are_consumed_and_never_repeats_an_item(pool_studio):
    studio = pool_studio
    studio.add_prompts(["First question", "Second question", "Third question"])
    assert studio.refill_pool(min_ready=3) == 3
    assert studio.refill_pool(min_ready=3) == 0            # full: nothing to do
    seen: list[int] = []
    assert rate_everything(studio, "ana", seen) == 3
    assert studio.pool_status().ready == {"default": 0}
    assert studio.refill_pool(min_ready=3) == 3
    assert rate_everything(studio, "ana", seen) == 3
    assert len(set(seen)) == 6
    views = [studio.next_item("bo")]
    assert views[0] is None                                 # every item had its one vote


def test_sides_are_randomised_and_pairs_cover_prompts_evenly(sqlite_studio, text_specs):
    studio = sqlite_studio
    for spec in text_specs:
        studio.add_contender(spec)
    studio.add_prompts([f"Prompt {i}" for i in range(4)])
    assert studio.refill_pool(min_ready=8) == 8
    left, prompts = Counter(), Counter()
    while (item := studio.next_item("ana")) is not None:
        left[item.sides[0].contender] += 1
        prompts[item.prompt_id] += 1
        studio.vote(item.item_id, outcome="tie", rater="ana", idempotency_key=str(item.item_id))
    assert sorted(prompts.values()) == [2, 2, 2, 2]
    assert set(left) == {"gpt", "llama"}                    # each contender shown on the left


def test_pregenerated_outputs_are_used_before_generating(text_studio):
    ids = text_studio.add_prompts(["Alpha", "Beta"])
    text_studio.generate("gpt", ids, seed=1)
    text_studio.generate("llama", ids, seed=1)
    before = len(text_studio.generations())
    assert text_studio.refill_pool(min_ready=2) == 2
    assert len(text_studio.generations()) == before
    assert text_studio.refill_pool(min_ready=4) == 2        # now both are used: new outputs
    assert len(text_studio.generations()) == before + 4


def test_the_worker_keeps_items_ready_in_the_background(text_studio):
    text_studio.add_prompts(["Tell me a joke", "Name a river"])
    worker = text_studio.pool_worker(min_ready=2, interval=0.1).start()
    try:
        wait_for(lambda: text_studio.pool_status().ready["default"] >= 2)
        item = text_studio.next_item("ana")
        text_studio.vote(item.item_id, outcome="right", rater="ana", idempotency_key="k1")
        worker.wake()
        wait_for(lambda: text_studio.pool_status().ready["default"] >= 2)
        assert worker.last_error is None and worker.created >= 3
    finally:
        worker.stop()
    assert not worker.running


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the pool worker did not refill in time"
        time.sleep(0.05)


def test_plans_rotate_through_every_contender_pair():
    prompts = choose_prompts(6, [(1, 0), (2, 0), (3, 5)])
    assert prompts == [1, 2, 1, 2, 1, 2]                    # least covered first, cycling
    planned = plan_items([1, 1, 1], text_contenders=[10, 20, 30], image_contenders=[], pairs_used={},
                         rotation=0)
    assert sorted(p.contender_ids for p in planned) == [(10, 20), (10, 30), (20, 30)]
    mixed = plan_items([1, 2], text_contenders=[10, 20], image_contenders=[40], pairs_used={}, rotation=0)
    assert [p.shape for p in mixed] == ["pair", "grid"] and mixed[1].contender_ids == (40, 40, 40, 40)
