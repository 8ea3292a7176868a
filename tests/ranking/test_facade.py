"""The ranking methods of `Studio`, on SQLite and on PostgreSQL: votes imported from a
file, reward models and their predictions written as the rewards code writes them."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from studio.store.schema import RewardModel, RewardPrediction
from tests.ranking.helpers import write_votes

VOTES = ([{"model_a": "alpha", "model_b": "beta", "winner": "model_a", "judge": j, "prompt": "Same?"}
          for j in ("ann", "bob")]
         + [{"model_a": "beta", "model_b": "gamma", "winner": "model_a", "judge": "ann"},
            {"model_a": "gamma", "model_b": "alpha", "winner": "tie", "judge": "bob"},
            {"model_a": "alpha", "model_b": "gamma", "winner": "model_a", "judge": "ann"},
            {"model_a": "beta", "model_b": "alpha", "winner": "model_a", "judge": "cat"}])


@pytest.fixture
def voted(studio, tmp_path):
    studio.import_votes(write_votes(tmp_path / "votes.jsonl", VOTES))
    return studio


def add_reward_model(studio, version: int, *, active: bool, metrics: dict, predictions: dict[int, float]):
    with studio.store.transaction() as tx:
        model = RewardModel(version=version, backbone="tiny", checkpoint_path=f"rm-{version}", metrics=metrics,
                            active=active)
        tx.session.add(model)
        tx.session.flush()
        tx.session.add_all([RewardPrediction(comparison_id=c, reward_model_id=model.id, prob_left=p)
                            for c, p in predictions.items()])


def test_leaderboard_has_the_columns_and_an_elo_column(voted):
    board = voted.leaderboard(bootstrap=50, seed=1)
    assert list(board.columns) == ["contender", "score", "rating", "ci_low", "ci_high", "votes", "rank", "rank_low",
                                   "rank_high", "elo"]
    assert board.contender.tolist()[0] == "alpha" and board.score.sum() == pytest.approx(1.0)
    assert board.set_index("contender").votes.to_dict() == {"alpha": 5, "beta": 4, "gamma": 3}
    assert board.elo.notna().all()
    pd.testing.assert_frame_equal(board, voted.leaderboard(bootstrap=50, seed=1))


def test_leaderboard_filters_by_source_and_prompt_set(voted, tmp_path):
    voted.import_votes(write_votes(tmp_path / "more.jsonl", [
        {"model_a": "delta", "model_b": "alpha", "winner": "model_a", "judge": "dan"}]))
    assert "delta" in voted.leaderboard(bootstrap=0).contender.tolist()
    assert "delta" not in voted.leaderboard(bootstrap=0, source="import:votes.jsonl").contender.tolist()
    assert voted.leaderboard(bootstrap=0, prompt_set="more").contender.tolist() == ["delta", "alpha"]
    assert voted.leaderboard(bootstrap=0, prompt_set="nothing").empty


def test_tables_and_bias_come_best_first(voted):
    rates, counts = voted.win_rates(), voted.battle_counts()
    assert list(rates.index) == list(counts.index) == ["alpha", "beta", "gamma"]
    assert counts.loc["alpha", "beta"] == 3 and rates.loc["alpha", "gamma"] == pytest.approx(0.75)
    bias = voted.position_bias()
    assert (bias["n"], bias["left_wins"], bias["ties"]) == (5, 5, 1)


def test_agreement_and_rater_stats_with_the_active_reward_model(voted):
    ids = voted.comparisons(with_content=False).id.tolist()
    add_reward_model(voted, 1, active=False, metrics={"heldout_accuracy": 0.58}, predictions={ids[0]: 0.1})
    add_reward_model(voted, 2, active=True, metrics={"heldout_accuracy": 0.64, "loss": 0.6},
                     predictions={ids[0]: 0.8, ids[1]: 0.3, ids[2]: 0.9, ids[3]: 0.9})
    report = voted.agreement()
    # ann and bob judged the same pair of outputs (alpha vs beta on one prompt) alike
    assert report.units == 1 and report.percent_agreement == 1.0
    stats = voted.rater_stats().set_index("rater")
    assert stats.votes.to_dict() == {"ann": 3, "bob": 2, "cat": 1}
    # active model: ann's votes 1 (0.8, left won) and 3 (0.9, left won) agree; bob's vote 2
    # (0.3, left won) disagrees, his vote 4 is a tie
    assert (stats.reward_model_votes["ann"], stats.reward_model_agreement["ann"]) == (2, 1.0)
    assert (stats.reward_model_votes["bob"], stats.reward_model_agreement["bob"]) == (1, 0.0)
    assert math.isnan(stats.reward_model_agreement["cat"])

    accuracy = voted.reward_model_accuracy()
    assert accuracy.version.tolist() == [1, 2] and accuracy.heldout_accuracy.tolist() == [0.58, 0.64]
    assert accuracy.active.tolist() == [False, True]
    assert accuracy.predicted_votes.tolist() == [1, 3] and accuracy.vote_accuracy.tolist() == [0.0, pytest.approx(2 / 3)]


def test_no_reward_model_yet_gives_an_empty_table(voted):
    accuracy = voted.reward_model_accuracy()
    assert accuracy.empty and {"version", "heldout_accuracy"} <= set(accuracy.columns)
    assert voted.rater_stats().reward_model_agreement.isna().all()


def test_a_model_without_recorded_accuracy_shows_nan(voted):
    add_reward_model(voted, 1, active=True, metrics={}, predictions={})
    assert math.isnan(voted.reward_model_accuracy().heldout_accuracy[0])


def test_plots_from_the_facade(voted):
    from matplotlib.figure import Figure

    for figure in (voted.plot_leaderboard(bootstrap=20), voted.plot_win_rates(), voted.plot_reward_model_accuracy()):
        assert isinstance(figure, Figure) and figure.axes
    board = voted.leaderboard(bootstrap=20)
    drawn = voted.plot_leaderboard(board).axes[0]
    assert [label.get_text() for label in drawn.get_yticklabels()] == board.contender.tolist()[::-1]


def test_an_empty_studio_has_an_empty_leaderboard(studio):
    assert studio.leaderboard().empty and studio.agreement().units == 0
    assert studio.position_bias()["n"] == 0
