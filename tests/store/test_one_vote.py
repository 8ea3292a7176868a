"""One vote per rater per item, bound to what the rater was shown: the service refuses an
item never handed to the rater, a second vote (any key) writes nothing and answers with the
first, a reused key assigns nothing, and the database itself holds one vote per (item,
rater). On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from studio.errors import ConflictError
from studio.store.schema import Comparison, RatingAssignment
from tests.generation.test_rank import make_grid
from tests.store.test_items import make_items


def rows(studio) -> list:
    with studio.store.reader() as tx:
        return tx.session.execute(select(Comparison.id, Comparison.item_id, Comparison.outcome)
                                  .order_by(Comparison.id)).all()


def received(studio, item_id: int) -> int:
    with studio.store.reader() as tx:
        return tx.items.get(item_id).votes_received


def assignments(studio, rater: str) -> list[tuple[int, bool]]:
    """(item id, completed) of every item shown to the rater."""
    with studio.store.reader() as tx:
        rater_id = tx.raters.id_for(rater)
        return [(i, done is not None) for i, done in tx.session.execute(
            select(RatingAssignment.item_id, RatingAssignment.completed_at)
            .where(RatingAssignment.rater_id == rater_id).order_by(RatingAssignment.item_id))]


def test_a_vote_on_an_item_never_shown_to_the_rater_is_refused_and_writes_nothing(studio):
    item = make_items(studio, 1, votes_wanted=3)[0]
    for n in range(3):          # the report: three votes under three keys made three rows
        with pytest.raises(ConflictError, match=f"item {item.id} was never shown to rater 'mallory'"):
            studio.vote(item.id, outcome="left", rater="mallory", idempotency_key=f"k{n}")
    with pytest.raises(ConflictError, match="never shown"):
        studio.vote_and_next(item.id, outcome="left", rater="mallory", idempotency_key="k9")
    assert rows(studio) == [] and received(studio, item.id) == 0
    assert assignments(studio, "mallory") == []                # and nothing was handed out instead
    assert studio.stats()["comparisons"] == 0


def test_a_second_vote_under_a_new_key_writes_nothing_and_answers_with_the_first(studio):
    first_item, _ = make_items(studio, 2)
    assert studio.next_item("ana").item_id == first_item.id
    first = studio.vote(first_item.id, outcome="left", rater="ana", idempotency_key="tab-1")
    again = studio.vote(first_item.id, outcome="right", rater="ana", idempotency_key="tab-2")
    assert first.created and not first.duplicate
    assert not again.created and again.duplicate and again.comparison.id == first.comparison.id
    assert again.comparison.outcome == "left"
    clicked, following = studio.vote_and_next(first_item.id, outcome="tie", rater="ana", idempotency_key="tab-3")
    assert clicked.duplicate and clicked.comparison.outcome == "left" and following is not None
    retry = studio.vote(first_item.id, outcome="right", rater="ana", idempotency_key="tab-1")
    assert not retry.created and not retry.duplicate           # a resend of the first is no duplicate
    assert [r.outcome for r in rows(studio)] == ["left"] and received(studio, first_item.id) == 1


def test_two_tabs_of_one_rater_voting_at_once_count_once(studio):
    item = make_items(studio, 1, votes_wanted=2)[0]
    studio.next_item("ana")
    start = threading.Barrier(6)
    results, errors = [], []

    def tab(n: int) -> None:
        try:
            start.wait(10)
            results.append(studio.vote_and_next(item.id, outcome=("left", "right")[n % 2], rater="ana",
                                                idempotency_key=uuid.uuid4().hex)[0])
        except BaseException as exc:    # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=tab, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(results) == 6
    assert sum(r.created for r in results) == 1 and sum(r.duplicate for r in results) == 5
    assert len({r.comparison.id for r in results}) == 1
    assert len(rows(studio)) == 1 and received(studio, item.id) == 1


def test_a_key_reused_for_another_item_is_refused_and_assigns_nothing(studio):
    first, second, _ = make_items(studio, 3)
    assert studio.next_item("ana").item_id == first.id
    studio.vote(first.id, outcome="left", rater="ana", idempotency_key="used")   # no next item asked for
    assert assignments(studio, "ana") == [(first.id, True)]
    with pytest.raises(ConflictError, match=f"'used' was already used for a vote on item {first.id}"):
        studio.vote_and_next(second.id, outcome="right", rater="ana", idempotency_key="used")
    assert assignments(studio, "ana") == [(first.id, True)]      # no next item was committed
    shown = studio.next_item("ana")
    with pytest.raises(ConflictError, match="already used"):
        studio.vote_and_next(shown.item_id, outcome="right", rater="ana", idempotency_key="used")
    assert assignments(studio, "ana") == [(first.id, True), (shown.item_id, False)]   # still open for a vote
    assert studio.vote(shown.item_id, outcome="right", rater="ana", idempotency_key="fresh").created
    assert len(rows(studio)) == 2


def test_one_ranking_per_rater_per_grid(studio):
    item = make_grid(studio)
    a, b, c, d = item.generation_ids
    assert studio.next_item("ana", shape="grid").item_id == item.id
    first = studio.rank(item.id, [c, a, d, b], rater="ana", idempotency_key="tab-1")
    second = studio.rank(item.id, [b], rater="ana", idempotency_key="tab-2")
    assert all(r.created for r in first) and len(first) == 6
    assert not any(r.created for r in second) and all(r.duplicate for r in second)
    assert [r.comparison.id for r in second] == [r.comparison.id for r in first]   # the first ranking stands
    assert len(rows(studio)) == 6 and received(studio, item.id) == 1
    with pytest.raises(ConflictError, match="never shown"):
        studio.rank(item.id, [a], rater="bo", idempotency_key="bo-1")


def test_the_database_holds_one_vote_per_rater_per_item(studio):
    """Below the service: a second row for the same (item, rater), or a second ranking's
    first row, is refused by the unique index; a ranking's further rows, superseded rows
    and votes on no item are not bound by it."""
    item = make_items(studio, 1, votes_wanted=3)[0]
    grid = make_grid(studio)
    studio.next_item("ana", shape="pair")
    pair = stored_row(studio, studio.vote(item.id, outcome="left", rater="ana", idempotency_key="k1").comparison.id)
    studio.next_item("ana", shape="grid")
    ranking = studio.rank(grid.id, [grid.generation_ids[0]], rater="ana", idempotency_key="r1")
    head = stored_row(studio, ranking[0].comparison.id)
    for second in ({**pair, "idempotency_key": "tab-2"}, {**head, "idempotency_key": "tab-2", "group_id": "other"}):
        with pytest.raises(IntegrityError):
            insert_row(studio, second)
    insert_row(studio, {**head, "idempotency_key": "part", "vote_part": 9})
    insert_row(studio, {**pair, "idempotency_key": "kept", "superseded_by": pair["id"]})
    for key in ("free-1", "free-2"):
        insert_row(studio, {**pair, "idempotency_key": key, "item_id": None})
    assert len(rows(studio)) == 1 + len(ranking) + 4


def stored_row(studio, comparison_id: int) -> dict:
    with studio.store.engine.connect() as connection:
        return dict(connection.execute(select(Comparison.__table__)
                                       .where(Comparison.id == comparison_id)).mappings().one())


def insert_row(studio, row: dict) -> None:
    with studio.store.engine.begin() as connection:
        connection.execute(insert(Comparison.__table__).values(**{k: v for k, v in row.items() if k != "id"}))
