"""`Studio.vote_and_next`: the arena's click, one transaction, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from studio.errors import InputError, NotFoundError
from tests.ui.conftest import add_image_item, add_text_pairs


def test_a_vote_returns_the_next_pair_and_a_retry_changes_nothing(studio):
    first_id, second_id = add_text_pairs(studio, [("p1", "a1", "b1"), ("p2", "a2", "b2")])
    assert studio.next_item("ana").item_id == first_id
    result, following = studio.vote_and_next(first_id, outcome="tie", rater="ana", idempotency_key="k1",
                                             rationale="close", decision_ms=900, session_id="s")
    assert result.created and result.comparison.outcome == "tie" and following.item_id == second_id
    again, still = studio.vote_and_next(first_id, outcome="left", rater="ana", idempotency_key="k1")
    assert not again.created and again.comparison.id == result.comparison.id
    assert still.item_id == second_id                   # the open pair again, not a new one
    (row,) = studio.comparisons().to_dict("records")
    assert (row["outcome"], row["rationale"], row["decision_ms"], row["session_id"]) == ("tie", "close", 900, "s")
    last, nothing = studio.vote_and_next(second_id, outcome="left", rater="ana", idempotency_key="k2")
    assert last.created and nothing is None


def test_grids_and_unknown_items_are_refused(studio):
    grid = add_image_item(studio, "four", [(0, 0, 0), (60, 60, 60), (120, 120, 120), (180, 180, 180)],
                          names=("g1", "g2", "g3", "g4"))
    with pytest.raises(InputError, match="rank"):
        studio.vote_and_next(grid, outcome="left", rater="ana", idempotency_key="k")
    with pytest.raises(NotFoundError):
        studio.vote_and_next(10_000, outcome="left", rater="ana", idempotency_key="k")
    assert studio.comparisons().empty


def test_raters_voting_at_once_each_get_their_own_pairs(studio):
    add_text_pairs(studio, [(f"p{i}", f"a{i}", f"b{i}") for i in range(24)])

    def rate(name: str) -> list[int]:
        seen, item = [], studio.next_item(name)
        while item is not None:
            seen.append(item.item_id)
            _, item = studio.vote_and_next(item.item_id, outcome="left", rater=name, idempotency_key=uuid.uuid4().hex)
        return seen

    with ThreadPoolExecutor(4) as pool:
        seen = list(pool.map(rate, ["r1", "r2", "r3", "r4"]))
    votes = studio.comparisons(with_content=False)
    assert all(len(s) == len(set(s)) for s in seen)                   # nobody is shown a pair twice
    assert sorted(i for s in seen for i in s) == sorted(votes["item_id"])   # every vote was kept
    assert votes["item_id"].nunique() == 24                           # and every pair was rated
    # Nobody is handed a pair another rater already holds: SQLite writers lock at BEGIN,
    # PostgreSQL locks the picked row (FOR UPDATE SKIP LOCKED).
    assert len(votes) == 24
