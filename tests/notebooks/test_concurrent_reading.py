"""A notebook reading next to a running studio: one process writes votes through its own
`Studio` while another reads DataFrames from the same SQLite file. Nothing fails, no vote
is lost, every read is a consistent snapshot, and a reader holding a read transaction
open does not stop the writer (SQLite's WAL mode)."""

from __future__ import annotations

import multiprocessing
import traceback

import pytest

from tests.notebooks.helpers import text_studio
from tests.shown import show

VOTES = 120
WAIT_S = 90          # generous: a failure shows as an error report, not as this timeout


def _report(results, role: str, work) -> None:
    try:
        results.put((role, "ok", work()))
    except BaseException:
        results.put((role, "error", traceback.format_exc()))


def write_votes(data_dir, item_ids, halfway, reader_caught_up, results) -> None:
    """Vote on every item, pausing half way until the reader has read at least once since."""
    def work():
        from studio.api import Studio

        with Studio.open(data_dir) as studio:
            for n, item in enumerate(item_ids):
                if n == len(item_ids) // 2:
                    halfway.set()
                    if not reader_caught_up.wait(WAIT_S):
                        raise TimeoutError("the reader never read while the writer was half way")
                studio.vote(item, outcome=("left", "right", "tie")[n % 3], rater=f"rater-{n % 4}",
                            idempotency_key=f"vote-{n}", decision_ms=1000 + n)
        return len(item_ids)

    _report(results, "writer", work)


def read_frames(data_dir, halfway, reader_caught_up, writer_done, results) -> None:
    """Read the DataFrames a notebook reads, over and over, until the writer is done."""
    def work():
        from studio.api import Studio

        seen = []
        with Studio.open(data_dir) as studio:
            while True:
                finished = writer_done.is_set()
                was_halfway = halfway.is_set()
                votes = studio.comparisons()
                board = studio.leaderboard(bootstrap=10)
                studio.agreement()
                studio.rater_stats()
                overview = studio.overview()
                assert votes["id"].is_monotonic_increasing and votes["id"].is_unique
                # read a moment later, each from its own snapshot: never fewer votes
                assert board["votes"].sum() >= 2 * len(votes)           # a vote counts for both sides
                assert int(overview.loc["(all)", "votes"]) >= len(votes)
                seen.append(len(votes))
                if was_halfway:
                    reader_caught_up.set()
                if finished:
                    return seen

    _report(results, "reader", work)


def held_read(data_dir, reading, writer_done, results) -> None:
    """Open one read transaction, read, and keep it open while the writer writes."""
    def work():
        from studio.api import Studio

        with Studio.open(data_dir) as studio:
            with studio.store.reader() as tx:
                before = len(tx.frames.comparisons())
                reading.set()
                if not writer_done.wait(WAIT_S):
                    raise TimeoutError("the writer did not finish while a read transaction was open")
                same_snapshot = len(tx.frames.comparisons())
            after = len(studio.comparisons())
        return before, same_snapshot, after

    _report(results, "reader", work)


def write_while_read(data_dir, item_ids, reading, writer_done, results) -> None:
    def work():
        from studio.api import Studio

        with Studio.open(data_dir) as studio:
            if not reading.wait(WAIT_S):
                raise TimeoutError("the reader never started")
            for n, item in enumerate(item_ids):
                studio.vote(item, outcome="left", rater="writer", idempotency_key=f"held-{n}")
        writer_done.set()
        return len(item_ids)

    _report(results, "writer", work)


def _started(context, *targets):
    processes = [context.Process(target=target, args=args) for target, args in targets]
    for process in processes:
        process.start()
    return processes


def _stopped(processes, *events) -> None:
    for event in events:            # release any process still waiting (after a failure)
        event.set()
    for process in processes:
        process.join(timeout=WAIT_S)
        if process.is_alive():
            process.kill()


def _next(results, role: str):
    got, status, value = results.get(timeout=3 * WAIT_S)
    assert status == "ok", f"the {got} failed:\n{value}"
    assert got == role, f"expected the {role} to report, got the {got}"
    return value


@pytest.mark.slow
def test_a_reader_process_never_loses_or_blocks_a_writer_process(tmp_path):
    studio, items, _ = text_studio(tmp_path / "data", [(f"Question {i}?", f"yes {i}", f"no {i}")
                                                       for i in range(VOTES)])
    for n, item in enumerate(items):
        show(studio, item, f"rater-{n % 4}")
    studio.close()
    context = multiprocessing.get_context("spawn")
    halfway, caught_up, done = context.Event(), context.Event(), context.Event()
    results = context.Queue()
    data_dir = str(tmp_path / "data")
    processes = _started(context, (read_frames, (data_dir, halfway, caught_up, done, results)),
                         (write_votes, (data_dir, items, halfway, caught_up, results)))
    try:
        assert _next(results, "writer") == VOTES
        done.set()
        seen = _next(results, "reader")
    finally:
        _stopped(processes, done, halfway, caught_up)

    assert seen == sorted(seen)                              # a later read never sees fewer votes
    assert any(VOTES // 2 <= n < VOTES for n in seen)        # it read while votes were coming in
    assert seen[-1] == VOTES
    from studio.api import Studio

    with Studio.open(tmp_path / "data") as reopened:
        votes = reopened.comparisons()
    assert sorted(votes["item_id"]) == sorted(items)         # every vote, once


@pytest.mark.slow
def test_an_open_read_transaction_does_not_stop_the_writer(tmp_path):
    studio, items, _ = text_studio(tmp_path / "data", [(f"Question {i}?", f"yes {i}", f"no {i}")
                                                       for i in range(20)])
    for item in items[:5]:
        studio.vote(show(studio, item, "early"), outcome="right", rater="early")
    for item in items[5:]:
        show(studio, item, "writer")
    studio.close()
    context = multiprocessing.get_context("spawn")
    reading, done = context.Event(), context.Event()
    results = context.Queue()
    data_dir = str(tmp_path / "data")
    processes = _started(context, (held_read, (data_dir, reading, done, results)),
                         (write_while_read, (data_dir, items[5:], reading, done, results)))
    try:
        assert _next(results, "writer") == 15               # all written while the read was open
        outcomes = {"reader": _next(results, "reader")}
    finally:
        _stopped(processes, done, reading)
    before, same_snapshot, after = outcomes["reader"]
    assert (before, same_snapshot, after) == (5, 5, 20)     # the open read kept its snapshot
