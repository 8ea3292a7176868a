"""Group commit: concurrent raters' clicks share commits, and each one is still its own
unit: acknowledged only once committed, undone alone when it fails."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from studio.errors import NotFoundError
from studio.store.schema import Comparison
from tests.shown import show
from tests.store.test_items import make_items


def _vote_count(studio) -> int:
    with studio.store.reader() as tx:
        return tx.session.scalar(select(func.count()).select_from(Comparison))


def _run_together(workers: list, timeout: float = 60.0) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(work):
        try:
            work()
        except BaseException as exc:     # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(t.is_alive() for t in threads), "voters still waiting: the writer is stuck"
    return errors


def test_concurrent_raters_share_commits_and_every_vote_lands_once(studio):
    make_items(studio, 16 * 6 + 4)
    raters = [f"r{i}" for i in range(16)]
    firsts = {name: studio.next_item(name) for name in raters}
    acknowledged: list[int] = []
    batches_before = studio.store.committer.batches

    def rater(name):
        item = firsts[name]
        for _ in range(5):
            result, item = studio.vote_and_next(item.item_id, outcome="left", rater=name,
                                                idempotency_key=uuid.uuid4().hex)
            assert result.created
            acknowledged.append(result.comparison.id)

    # raters reading their next item (their own transactions) while others' votes are being
    # committed: the writer and the readers must never wait on each other for good
    readers = [lambda i=i: [studio.next_item(f"reader{i}") for _ in range(5)] for i in range(4)]
    assert _run_together([lambda n=name: rater(n) for name in raters] + readers) == []
    assert len(acknowledged) == len(set(acknowledged)) == 80
    assert _vote_count(studio) == 80
    assert studio.store.committer.batches - batches_before < 80     # some clicks shared a commit


def test_a_failing_vote_is_undone_alone_and_its_batch_mates_commit(studio):
    items = make_items(studio, 2)
    for item in items:
        show(studio, item.id, "ana")
    gate = threading.Event()

    def hold_the_writer(tx):          # keeps the writer busy so the next three queue up together
        gate.wait(10)
        return "held"

    holding = studio.store.committer.submit(hold_the_writer)
    good = studio.store.committer.submit(lambda tx: tx.votes.record(_vote(items[0], "good")))

    def half_done_then_fails(tx):
        tx.votes.record(_vote(items[1], "bad"))       # written, then undone by its savepoint
        raise NotFoundError("no such thing")

    bad = studio.store.committer.submit(half_done_then_fails)
    also_good = studio.store.committer.submit(lambda tx: tx.votes.record(_vote(items[1], "also-good")))
    gate.set()
    assert holding.result(10) == "held"
    assert good.result(10).created and also_good.result(10).created
    with pytest.raises(NotFoundError):
        bad.result(10)
    with studio.store.reader() as tx:
        assert tx.votes.by_key("bad") is None
        assert tx.votes.by_key("good") is not None and tx.votes.by_key("also-good") is not None


def test_an_acknowledged_vote_is_visible_to_a_new_connection_at_once(studio):
    item = make_items(studio, 1)[0]
    show(studio, item.id, "ana")
    result = studio.store.grouped(lambda tx: tx.votes.record(_vote(item, "seen")))
    studio.store.engine.dispose()             # nothing cached: a fresh connection reads it
    with studio.store.reader() as tx:
        assert tx.votes.by_key("seen").id == result.comparison.id


def _vote(item, key: str):
    from studio.records import VoteIn

    left, right = item.generation_ids
    return VoteIn(left_generation_id=left, right_generation_id=right, outcome="left", rater="ana",
                  idempotency_key=key, item_id=item.id)


def test_votes_still_commit_after_the_writer_was_stopped(studio):
    """Closing a studio stops its writer thread; a studio object used again (a notebook cell
    run twice) starts a new one instead of leaving the vote waiting forever."""
    item = make_items(studio, 1)[0]
    show(studio, item.id, "ana")
    studio.store.committer.stop()
    assert studio.store.grouped(lambda tx: tx.votes.record(_vote(item, "after-stop"))).created
