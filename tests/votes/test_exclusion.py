"""An admin excludes a rater (or one session): the votes stay, marked, and drop out of the
leaderboard, agreement and exports until included again."""

from __future__ import annotations

import json

import pytest

from studio.errors import NotFoundError
from tests.votes.helpers import contenders_with_outputs, vote_on


@pytest.fixture
def crowd(studio):
    """Honest raters prefer strong over weak; 'mallory' always says the opposite."""
    generations = contenders_with_outputs(studio, ["strong", "weak"], prompts=6)
    prompts = sorted({p for p, _ in generations})
    for rater in ("ana", "bo"):
        for p in prompts:
            vote_on(studio, generations, rater, "strong", "weak", prompt=p)
    for index, p in enumerate(prompts):
        for repeat in range(3):
            vote_on(studio, generations, "mallory", "weak", "strong", prompt=p, session=f"s{index % 2}",
                    key=f"m{p}:{repeat}")
    return studio


def test_excluding_a_rater_changes_the_leaderboard_and_exports_and_is_reversible(crowd, tmp_path):
    studio = crowd
    before = studio.leaderboard(bootstrap=0)
    assert before["contender"].tolist() == ["weak", "strong"]          # mallory outvotes the others
    assert studio.exclude_rater("mallory", reason="always the weaker answer")
    assert not studio.exclude_rater("mallory")                          # already excluded
    after = studio.leaderboard(bootstrap=0)
    assert after["contender"].tolist() == ["strong", "weak"]
    assert after["votes"].sum() == 2 * 12                               # only ana's and bo's
    assert studio.stats()["excluded_votes"] == 18
    assert "mallory" not in set(studio.comparisons(with_content=False)["rater"])
    kept = studio.comparisons(with_content=False, include_excluded=True)
    assert kept.loc[kept["rater"] == "mallory", "excluded"].astype(bool).all()   # still stored, marked
    assert len(kept) == 30
    export = tmp_path / "votes.jsonl"
    studio.export(export, format="jsonl")
    raters = {json.loads(line)["rater"] for line in export.read_text().splitlines()}
    assert raters == {"ana", "bo"}
    assert "mallory" not in set(studio.agreement().per_rater["rater"])
    assert studio.include_rater("mallory")
    assert studio.leaderboard(bootstrap=0)["contender"].tolist() == ["weak", "strong"]
    assert studio.stats()["excluded_votes"] == 0


def test_excluding_one_session_leaves_the_raters_other_sessions_counted(crowd):
    studio = crowd
    studio.exclude_rater("mallory", session="s0")
    counted = studio.comparisons(with_content=False, rater="mallory")
    assert set(counted["session_id"]) == {"s1"} and len(counted) == 9
    table = studio.raters().set_index("rater")
    assert table.loc["mallory", "excluded_sessions"] == "s0"
    assert not table.loc["mallory", "excluded"]
    studio.include_rater("mallory", session="s0")
    assert len(studio.comparisons(with_content=False, rater="mallory")) == 18


def test_excluded_raters_later_votes_are_left_out_too(crowd):
    studio = crowd
    studio.exclude_rater("ana")
    generations = {(p, c): g for (p, c), g in _generations(studio).items()}
    vote_on(studio, generations, "ana", "strong", "weak", prompt=min(p for p, _ in generations), key="late")
    assert "ana" not in set(studio.comparisons(with_content=False)["rater"])


def test_unknown_rater_or_session_is_one_clear_line(crowd):
    with pytest.raises(NotFoundError, match="no rater named 'nobody'"):
        crowd.exclude_rater("nobody")
    with pytest.raises(NotFoundError, match="no votes in session 'zz'"):
        crowd.exclude_rater("ana", session="zz")


def _generations(studio):
    frame = studio.generations()
    return {(row.prompt_id, row.contender): row.id for row in frame.itertuples()}
