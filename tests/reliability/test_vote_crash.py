"""A short version of bench/vote_durability.py: raters vote through a real `studio serve`
process (gradio_client, one session each), the server is killed with SIGKILL part-way and
started again, the raters resend what was not acknowledged with the same tokens, and then
every acknowledged vote is in the database exactly once. On SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import io

import pytest

from bench._durability import crash_run
from bench._raters import warm_pool

pytestmark = pytest.mark.slow

RATERS, VOTES = 6, 5


def test_a_server_killed_mid_vote_loses_and_doubles_nothing(database_url, tmp_path):
    data_dir = tmp_path / "data"
    warm_pool(data_dir, RATERS * VOTES * 2, database_url=None if database_url.startswith("sqlite") else database_url)
    with contextlib.redirect_stderr(io.StringIO()):       # gradio_client reports each broken stream
        report = crash_run(data_dir, raters=RATERS, votes=VOTES, kill_at=RATERS * VOTES // 3, max_seconds=90,
                           log=tmp_path / "serve.log")
    print("\n".join(report.lines()))
    assert report.errors == [], report.errors
    assert report.acked_before_kill >= RATERS * VOTES // 3 and report.acked_before_kill < RATERS * VOTES
    assert report.sent == report.acknowledged == RATERS * VOTES       # every vote got through in the end
    assert report.found == report.acknowledged and report.lost == 0
    assert report.duplicated == 0 and report.double_votes == 0
    assert report.integrity == "ok"
    assert "Traceback" not in (tmp_path / "serve.log").read_text(errors="replace")


def test_two_tabs_reloads_and_api_votes_on_unassigned_items_never_double_a_vote(database_url, tmp_path):
    """bench/vote_durability.py's double-vote cases, small: through a real `studio serve`."""
    from bench._durability import double_vote_run

    data_dir = tmp_path / "data"
    warm_pool(data_dir, 40, database_url=None if database_url.startswith("sqlite") else database_url)
    with contextlib.redirect_stderr(io.StringIO()):
        report = double_vote_run(data_dir, raters=2, rounds=2, log=tmp_path / "serve.log")
    print("\n".join(report.lines()))
    assert report.errors == [], report.errors
    assert report.tab_pairs == report.told_already == 4 and report.reloads == 4
    assert report.api_unassigned == report.api_refused > 0 and report.written_by_intruders == 0
    assert report.double_votes == 0 and report.ok
