"""A short version of bench/vote_durability.py, on SQLite and on PostgreSQL, through one real
`studio serve` process: first the double-vote cases (two tabs of one rater, a reload before
the answer, API votes on items never handed out), then raters voting through gradio_client
(one session each) while the server is killed with SIGKILL part-way and started again; the
raters resend what was not acknowledged with the same tokens. At the end every acknowledged
vote is in the database exactly once and no rater has voted twice on an item."""

from __future__ import annotations

import contextlib
import io

import pytest

from bench._durability import crash_run, double_vote_run
from bench._raters import ServeProcess, warm_pool

pytestmark = pytest.mark.slow

RATERS, VOTES = 6, 5


def test_two_tabs_reloads_api_votes_and_a_server_killed_mid_vote_never_lose_or_double_a_vote(
        database_url, tmp_path):
    data_dir, log = tmp_path / "data", tmp_path / "serve.log"
    warm_pool(data_dir, 40 + RATERS * VOTES * 2,
              database_url=None if database_url.startswith("sqlite") else database_url)
    server = ServeProcess(data_dir, log=log).start()
    try:
        server.wait_serving()
        with contextlib.redirect_stderr(io.StringIO()):     # gradio_client reports each broken stream
            doubles = double_vote_run(data_dir, raters=2, rounds=2, server=server)
            print("\n".join(doubles.lines()))
            crash = crash_run(data_dir, raters=RATERS, votes=VOTES, kill_at=RATERS * VOTES // 3, max_seconds=90,
                              server=server)
        print("\n".join(crash.lines()))
    finally:
        server.stop()
    assert doubles.errors == [], doubles.errors
    assert doubles.tab_pairs == doubles.told_already == 4 and doubles.reloads == 4
    assert doubles.api_unassigned == doubles.api_refused > 0 and doubles.written_by_intruders == 0
    assert doubles.double_votes == 0 and doubles.ok

    assert crash.errors == [], crash.errors
    assert crash.acked_before_kill >= RATERS * VOTES // 3 and crash.acked_before_kill < RATERS * VOTES
    assert crash.sent == crash.acknowledged == RATERS * VOTES       # every vote got through in the end
    assert crash.found == crash.acknowledged and crash.lost == 0
    assert crash.duplicated == 0 and crash.double_votes == 0       # over both parts' votes
    assert crash.integrity == "ok"
    assert "Traceback" not in log.read_text(errors="replace")
