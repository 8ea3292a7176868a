"""Rankings of a grid are stored as the pairwise comparisons they imply, idempotently."""

from __future__ import annotations

import pytest

from studio.contender_spec import ContenderSpec
from studio.errors import InputError
from studio.generation.grids import ranking_comparisons
from studio.records import GenerationIn


def make_grid(studio):
    contender = studio.add_contender(ContenderSpec(name="painter", kind="image", backend="external"))
    prompt_id = studio.add_prompts(["a cat"])[0]
    ids = studio.add_generations([GenerationIn(prompt_id=prompt_id, contender_id=contender.id, text=f"image {i}")
                                  for i in range(4)])
    with studio.store.transaction() as tx:
        return tx.items.create(prompt_id, ids, votes_wanted=2)


def test_a_full_ranking_is_six_comparisons_in_one_group_written_once(studio):
    item = make_grid(studio)
    a, b, c, d = item.generation_ids
    assert studio.next_item("ana", shape="grid").item_id == item.id
    results = studio.rank(item.id, [c, a, d, b], rater="ana", idempotency_key="rank-1", decision_ms=900)
    assert len(results) == 6 and all(r.created for r in results)
    assert len({r.comparison.group_id for r in results}) == 1
    wins = {(r.comparison.left_generation_id if r.comparison.outcome == "left"
             else r.comparison.right_generation_id) for r in results}
    assert wins == {c, a, d}
    retried = studio.rank(item.id, [c, a, d, b], rater="ana", idempotency_key="rank-1")
    assert not any(r.created for r in retried)
    assert len(studio.comparisons()) == 6
    with studio.store.reader() as tx:
        assert tx.items.get(item.id).votes_received == 1     # one ranking, one vote on the item
    assert studio.next_item("ana") is None and studio.next_item("bo").item_id == item.id


def test_naming_only_the_best_compares_it_with_each_of_the_rest(studio):
    item = make_grid(studio)
    best = item.generation_ids[2]
    assert studio.next_item("ana", shape="grid").item_id == item.id
    results = studio.rank(item.id, [best], rater="ana", idempotency_key="best-only")
    assert len(results) == 3
    frame = studio.comparisons()
    assert (frame["left_generation_id"].where(frame["outcome"] == "left", frame["right_generation_id"]) == best).all()


def test_a_ranking_must_name_outputs_of_the_item(studio):
    item = make_grid(studio)
    with pytest.raises(InputError, match="not part of this item"):
        studio.rank(item.id, [999], rater="ana", idempotency_key="bad")
    with pytest.raises(InputError, match="once"):
        studio.rank(item.id, [item.generation_ids[0]] * 2, rater="ana", idempotency_key="bad2")
    assert studio.comparisons().empty


def test_sides_keep_the_grid_order():
    implied = ranking_comparisons([5, 6, 7, 8], [8, 5], "key")
    assert [(c.left, c.right, c.outcome) for c in implied] == [
        (5, 8, "right"), (6, 8, "right"), (7, 8, "right"), (5, 6, "left"), (5, 7, "left")]
    assert len({c.key for c in implied}) == 5
