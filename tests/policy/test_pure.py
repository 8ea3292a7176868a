"""The pure parts of closing the loop: pairs from votes, best-vs-worst, the reward-model
gate, the pool's share of version-vs-parent pairs, and the lift's arithmetic."""

from __future__ import annotations

import math

import pytest

from studio.generation.pool import PlannedItem
from studio.generation.versus_parent import versus_parent
from studio.policy.config import DPOSettings
from studio.policy.lineage import family_of, version_name
from studio.policy.onpolicy import beats_chance, onpolicy_pairs
from studio.policy.pairs import best_vs_worst, vote_pairs
from studio.ranking.lift import Version, lift_row, predicted_win_rate


def vote(outcome, left=1, right=2, left_text="long answer", right_text="short", **extra):
    return {"outcome": outcome, "left_contender_id": left, "right_contender_id": right, "left_text": left_text,
            "right_text": right_text, "prompt": "p", "prompt_id": 7, "id": 3, **extra}


def test_decisive_votes_become_pairs_and_the_rest_is_counted_by_reason():
    votes = [vote("left"), vote("right"), vote("tie"), vote("both_bad"), vote("left", left=5, right=6),
             vote("left", left_media="media/x.png"), vote("right", right_text="")]
    result = vote_pairs(votes, contender_id=1)
    assert [(p.chosen, p.rejected) for p in result.pairs] == [("long answer", "short"), ("short", "long answer")]
    assert dict(result.left_out) == {"tie": 1, "both_bad": 1, "not_involving": 1, "image": 1, "empty_or_equal": 1}
    assert result.counts()["pairs"] == 2 and result.prompt_ids == [7]
    assert "1 tie" in result.describe_left_out()


def test_best_vs_worst_needs_a_margin_and_two_different_answers():
    pair = best_vs_worst("p", ["a", "b", "c"], [0.1, 0.9, -0.5])
    assert (pair.chosen, pair.rejected) == ("b", "c")
    assert best_vs_worst("p", ["a", "a"], [0.1, 0.9]) is None
    assert best_vs_worst("p", ["a", "b"], [0.5, 0.5]) is None
    result = onpolicy_pairs([(1, "p", None), (2, "q", None)], [["a", "b"], ["x", "x"]], [[1.0, 0.0], [0.0, 1.0]])
    assert len(result.pairs) == 1 and result.left_out["no_margin"] == 1


def test_the_reward_model_gate_wants_the_interval_above_chance():
    assert beats_chance(0.53, 100)[0] is False          # 95% interval reaches below 50%
    assert beats_chance(0.70, 200)[0] is True
    assert beats_chance(None, None)[0] is False
    assert "interval" in beats_chance(0.53, 100)[1]


def test_about_half_of_a_versions_pairs_meet_its_parent():
    parent, version, other = 1, 2, 3
    pairs = [(version, other), (parent, other), (parent, version)] * 40
    planned = [PlannedItem(i, p) for i, p in enumerate(pairs)]
    result = versus_parent(planned, {version: parent}, [parent, version, other], share=0.5)
    with_version = [p for p in result if version in p.contender_ids]
    against_parent = [p for p in with_version if parent in p.contender_ids]
    assert len(against_parent) / len(with_version) == pytest.approx(0.5, abs=0.05)
    assert versus_parent(planned, {version: parent}, [parent, version, other], share=0.0) == planned
    fourth = 4                                    # with more contenders, some of its pairs change to the parent
    combos = [(parent, version), (version, other), (version, fourth), (parent, other), (parent, fourth),
              (other, fourth)] * 40
    planned4 = [PlannedItem(i, p) for i, p in enumerate(combos)]
    result4 = versus_parent(planned4, {version: parent}, [parent, version, other, fourth], share=0.5)
    mine = [p for p in result4 if version in p.contender_ids]
    assert len(mine) == 120
    assert sum(parent in p.contender_ids for p in mine) / len(mine) == pytest.approx(0.5, abs=0.05)
    assert versus_parent(planned, {version: parent}, [version, other], share=0.5) == planned   # parent disabled


def test_the_lift_counts_ties_half_and_says_when_there_are_too_few_votes():
    v = Version("a@v2", 2, "a", 1)
    votes = [vote("left", left=2, right=1)] * 30 + [vote("right", left=2, right=1)] * 5 + [vote("tie", 2, 1)] * 5
    row = lift_row(v, votes, min_votes=20)
    assert (row["wins"], row["ties"], row["losses"], row["votes"]) == (30, 5, 5, 40)
    assert row["win_rate"] == pytest.approx(32.5 / 40)
    assert row["ci_low"] > 0.5 and row["verdict"] == "better than its parent"
    few = lift_row(v, votes[:3], min_votes=20)
    assert few["verdict"].startswith("not yet enough votes")
    assert math.isnan(lift_row(v, [], min_votes=20)["win_rate"])
    rate, n = predicted_win_rate([vote("left", 2, 1), vote("left", 1, 2)], 2, [0.8, 0.8])
    assert (rate, n) == (pytest.approx(0.5), 2)


def test_version_names_and_settings():
    assert version_name("smol", 3) == "smol@v3" and family_of("smol@v3") == "smol" and family_of("a@b") == "a@b"
    assert DPOSettings().precompute_ref and not DPOSettings.trl_defaults().precompute_ref
    with pytest.raises(ValueError):
        DPOSettings(max_length=64, max_prompt_length=64)


def test_improve_help_states_the_defaults_a_run_uses():
    """`studio improve --help` reads its defaults from DPOSettings, so a changed default
    (the learning rate went from 2e-4 to 5e-4) cannot leave the help saying the old one."""
    from tests.reliability.cli import run_cli

    code, out, _ = run_cli(["improve", "--help"])
    text = " ".join(out.split())
    defaults = DPOSettings()
    assert code == 0
    assert f"learning rate [default: {defaults.learning_rate:g}]" in text
    assert f"Passes over the pairs [default: {defaults.epochs}]" in text and f"[default: {defaults.beta:g}]" in text
