"""Gold items: marked by an admin (one, or a JSON Lines file), mixed into each rater's stream
at [pool] gold_rate, never twice to one rater, and scored in the raters view."""

from __future__ import annotations

import json

import pytest

from studio.errors import InputError, NotFoundError
from tests.votes.helpers import contenders_with_outputs

GOLD_RATE = 0.25


@pytest.fixture
def gold_studio(tmp_path):
    """40 ordinary pairs (a vs b, two votes each) and 30 gold pairs (a vs c, a is right), from a file."""
    from studio.api import Studio

    data = tmp_path / "data"
    data.mkdir()
    (data / "studio.toml").write_text(f"[pool]\ngold_rate = {GOLD_RATE}\n")
    with Studio.open(data) as studio:
        generations = contenders_with_outputs(studio, ["a", "b", "c"], prompts=40)
        prompts = sorted({p for p, _ in generations})
        with studio.store.transaction() as tx:
            for p in prompts:
                tx.items.create(p, [generations[(p, "a")], generations[(p, "b")]], votes_wanted=2)
        gold = tmp_path / "gold.jsonl"
        gold.write_text("".join(json.dumps({"left_generation_id": generations[(p, "c")],
                                            "right_generation_id": generations[(p, "a")], "answer": "right"}) + "\n"
                                for p in prompts[:30]))
        assert studio.import_gold(gold) == 30
        studio.generations_by_key = generations
        yield studio


def rate_stream(studio, rater: str, *, right: bool) -> tuple[list[int], int]:
    """Vote through the arena's path until nothing is left; returns the items served and
    how many were gold. `right`: answer gold items correctly (a wins), else wrongly."""
    gold = set(studio.gold.answers()["item_id"])
    served = []
    item = studio.next_item(rater)
    while item is not None:
        served.append(item.item_id)
        a_left = item.sides[0].contender == "a"
        outcome = ("left" if a_left else "right") if right else ("right" if a_left else "left")
        _, item = studio.vote_and_next(item.item_id, outcome=outcome, rater=rater,
                                       idempotency_key=f"{rater}:{item.item_id}")
    return served, sum(i in gold for i in served)


def test_gold_items_are_served_at_the_set_rate_and_never_twice(gold_studio):
    served, gold = rate_stream(gold_studio, "ana", right=True)
    assert len(served) == len(set(served))                        # nothing twice, gold included
    ordinary = len(served) - gold
    assert ordinary == 40
    share = gold / len(served)
    assert 0.15 <= share <= 0.35, f"gold share {share:.2f}, set to {GOLD_RATE}"
    served_bo, gold_bo = rate_stream(gold_studio, "bo", right=False)
    assert gold_bo > 0 and len(served_bo) == len(set(served_bo))  # gold is for every rater
    assert gold_studio.next_item("ana") is None                   # ana's stream is spent: no gold again
    table = gold_studio.raters().set_index("rater")
    assert table.loc["ana", "gold_votes"] == gold and table.loc["ana", "gold_accuracy"] == 1.0
    assert table.loc["bo", "gold_accuracy"] == 0.0


def test_an_admin_marks_one_item_gold_and_bad_answers_are_refused(gold_studio, tmp_path):
    studio = gold_studio
    item = studio.next_item("cy")
    studio.mark_gold(item.item_id, "tie")
    assert studio.gold.answers().set_index("item_id").loc[item.item_id, "outcome"] == "tie"
    with pytest.raises(InputError, match="must be one of"):
        studio.mark_gold(item.item_id, "maybe")
    with pytest.raises(NotFoundError, match="no such rating item"):
        studio.mark_gold(99999, "left")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"item_id": 1, "answer": "left"}\n{"answer": "left"}\n')
    before = len(studio.gold.answers())
    with pytest.raises(InputError, match=r"bad.jsonl:2: name the pair"):
        studio.import_gold(bad)
    assert len(studio.gold.answers()) == before                   # nothing written
