"""Rating items: the next item for a rater, never the same one twice."""

from __future__ import annotations

from studio.config import ContenderSpec
from studio.records import GenerationIn


def make_items(studio, n: int, votes_wanted: int = 1):
    a = studio.add_contender(ContenderSpec(name="a", model="m"))
    b = studio.add_contender(ContenderSpec(name="b", model="m"))
    items = []
    for i in range(n):
        prompt_id = studio.add_prompts([f"prompt {i}"])[0]
        left, right = studio.add_generations([GenerationIn(prompt_id=prompt_id, contender_id=a.id, text=f"a{i}"),
                                              GenerationIn(prompt_id=prompt_id, contender_id=b.id, text=f"b{i}")])
        with studio.store.transaction() as tx:
            items.append(tx.items.create(prompt_id, [right, left], votes_wanted=votes_wanted))
    return items


def test_next_item_shows_the_prompt_and_sides_in_display_order(studio):
    item = make_items(studio, 1)[0]
    view = studio.next_item("ana")
    assert view.item_id == item.id and view.prompt == "prompt 0"
    assert [s.text for s in view.sides] == ["b0", "a0"]
    assert [s.contender for s in view.sides] == ["b", "a"]


def test_a_reload_shows_the_same_open_item_and_a_vote_moves_on(studio):
    make_items(studio, 2)
    first = studio.next_item("ana")
    assert studio.next_item("ana").item_id == first.item_id
    studio.vote(first.item_id, outcome="left", rater="ana", idempotency_key="k1")
    second = studio.next_item("ana")
    assert second.item_id != first.item_id
    studio.vote(second.item_id, outcome="tie", rater="ana", idempotency_key="k2")
    assert studio.next_item("ana") is None


def test_one_item_is_not_handed_to_more_raters_than_it_wants(studio):
    make_items(studio, 1, votes_wanted=2)
    assert studio.next_item("ana") is not None
    assert studio.next_item("bo") is not None
    assert studio.next_item("cy") is None


def test_a_rater_never_gets_the_same_item_twice(studio):
    item = make_items(studio, 1, votes_wanted=3)[0]
    studio.vote(item.id, outcome="left", rater="ana", idempotency_key="k1")
    assert studio.next_item("ana") is None
    assert studio.next_item("bo").item_id == item.id
