"""Rating items: the next item for a rater, never the same one twice."""

from __future__ import annotations

from studio.contender_spec import ContenderSpec
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
    assert studio.next_item("ana").item_id == item.id
    studio.vote(item.id, outcome="left", rater="ana", idempotency_key="k1")
    assert studio.next_item("ana") is None
    assert studio.next_item("bo").item_id == item.id


def test_picking_the_next_item_skips_voted_items_through_the_partial_indexes(tmp_path):
    """Each click picks from the items still wanting votes and looks up the rater's open
    item through partial indexes: a long-running studio's voted items are never scanned."""
    from sqlalchemy.dialects import sqlite

    from studio.api import Studio
    from studio.store import items

    with Studio.open(tmp_path / "data") as studio:
        with studio.store.engine.connect() as connection:
            def plan(statement) -> str:
                sql = str(statement.compile(dialect=sqlite.dialect()))
                rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", (1,) * sql.count("?"))
                return " | ".join(row[-1] for row in rows)

            for query in (items._pick, items._pending):
                for by_prompt_set in (True, False):
                    steps = plan(query(by_prompt_set, True))
                    assert "ix_rating_items_wanting" in steps or "ix_rating_assignments_open" in steps, steps
                    assert "SCAN rating_items |" not in steps, steps       # never every item
