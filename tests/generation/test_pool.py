"""The pool keeps rating items ready, refills as they are consumed, never repeats an item
for a rater, and uses pre-generated outputs before generating new ones."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from studio.generation.pool import NewOutput, PlannedItem, choose_prompts, fill_items, plan_items


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
    assert text_studio.refill_pool(min_ready=4) == 2        # both pairs are taken: one new sample
    assert len(text_studio.generations()) == before + 2     # each, crossed with the other side's


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


def test_k_samples_per_contender_make_k_by_k_cross_pairs_before_any_new_output():
    existing = [(1, 7, 10), (2, 7, 10), (3, 7, 20), (4, 7, 20)]      # two samples each of contenders 10, 20
    plan = [PlannedItem(7, (10, 20))] * 5
    filled = fill_items(plan, existing, [], pool_seed=0)
    pairs = [frozenset(f.places) for f in filled[:4]]
    assert set(pairs) == {frozenset(p) for p in [(1, 3), (1, 4), (2, 3), (2, 4)]}   # 2 x 2, each once
    fifth = filled[4].places                                         # all taken: one new sample
    assert sum(isinstance(p, NewOutput) for p in fifth) == 1
    # pairs already made are never made again
    again = fill_items(plan[:1], existing, [[1, 3], [4, 2]], pool_seed=0)
    assert frozenset(again[0].places) in {frozenset((1, 4)), frozenset((2, 3))}


def test_a_new_sample_serves_several_pairs_and_is_generated_once(text_studio):
    text_studio.add_prompts(["Only prompt"])
    assert text_studio.refill_pool(min_ready=4) == 4                 # 2 x 2 from four outputs
    assert len(text_studio.generations()) == 4
    views = []
    while (item := text_studio.next_item("ana")) is not None:
        views.append(frozenset(s.generation_id for s in item.sides))
        text_studio.vote(item.item_id, outcome="left", rater="ana", idempotency_key=str(item.item_id))
    assert len(views) == len(set(views)) == 4


def test_an_empty_pool_fills_in_small_batches_first(text_studio):
    from studio.services.pool import chunks

    assert [len(c) for c in chunks(list(range(20)), 8, empty=True)] == [2, 2, 4, 8, 4]
    assert [len(c) for c in chunks(list(range(10)), 8, empty=False)] == [8, 2]
    assert [len(c) for c in chunks(list(range(3)), 1, empty=True)] == [1, 1, 1]
    text_studio.add_prompts([f"Prompt {i}" for i in range(6)])
    batches: list[int] = []
    assert text_studio.pool.refill(min_ready=6, on_written=batches.append) == 6
    assert batches[:2] == [2, 2]                                     # two pairs first, two more next


def test_outputs_cut_at_the_token_limit_are_marked(text_studio):
    from studio.generation.base import Request
    from studio.records import TRUNCATED

    outputs = text_studio.generator("gpt").generate([Request(prompt=f"prompt {i}", seed=i) for i in range(6)])
    for output in outputs:                                           # max_new_tokens is 8
        if output.new_tokens < 8:
            assert TRUNCATED not in output.params                    # it ended on its own
        if output.params.get(TRUNCATED):
            assert output.new_tokens == 8
    assert any(o.params.get(TRUNCATED) for o in outputs)             # random tiny models rarely stop early
    text_studio.add_prompts(["Marked in the arena"])
    text_studio.refill_pool(min_ready=1)
    item = text_studio.next_item("ana")
    assert any(side.truncated for side in item.sides)
