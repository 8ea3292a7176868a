"""Style control: markdown counts, the joint Bradley-Terry fit with style covariates
against an independent logistic regression, planted style effects recovered, and
bootstrap rounds that equal one exact fit per round."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench._simulated import style_votes, unpenalised_fit
from studio.errors import InputError
from studio.ranking import leaderboard
from studio.ranking.bradley_terry import RATING_SCALE, fit_theta, matchups
from studio.ranking.style import STYLE_FEATURES, style_counts, style_covariates, with_style_counts
from studio.ranking.style_control import (
    BOARD_COLUMNS,
    COEFFICIENT_COLUMNS,
    bootstrap_style,
    fit_style,
    poisson_weights,
    style_leaderboard,
)
from studio.ranking.style_model import style_votes as prepared


def simulated(n: int, seed: int, **options) -> tuple[pd.DataFrame, pd.Series]:
    return style_votes(n, seed, contenders=6, spread=0.5, **options)


def test_markdown_elements_are_counted_outside_code_blocks():
    text = ("# Title\n\nSome **bold** and __more__.\n- one\n* two\n3. three\n"
            "```python\n# a comment, not a header\n- not a list\n```\n## Second")
    counts = style_counts([text, None, "plain words"])
    assert counts.iloc[0].to_dict() == {"length": len(text), "headers": 2, "lists": 3, "bold": 2}
    assert counts.iloc[1].to_dict() == {"length": 0, "headers": 0, "lists": 0, "bold": 0}   # an image
    assert counts.iloc[2].to_dict() == {"length": 11, "headers": 0, "lists": 0, "bold": 0}


def test_counts_come_from_the_texts_once_per_generation_and_sides_swapped_negate_the_covariates():
    votes = pd.DataFrame({"left_generation_id": [1, 3, 1], "right_generation_id": [2, 1, 3],
                          "left_text": ["# A\n- x", "short", "# A\n- x"], "right_text": ["b", "# A\n- x", "short"]})
    counted = with_style_counts(votes)
    assert counted.left_headers.tolist() == [1, 0, 1] and counted.right_lists.tolist() == [0, 1, 0]
    z, scale = style_covariates(counted)
    assert np.allclose(z[1], -z[2])                                # vote 3 is vote 2 with the sides swapped
    assert (scale[:3] > 0).all() and scale[3] == 0 and (z[:, 3] == 0).all()   # no bold anywhere: no covariate
    with pytest.raises(InputError, match="needs the answers' texts"):
        with_style_counts(votes.drop(columns=["left_text"]))


def sv_order(votes: pd.DataFrame) -> np.ndarray:
    """Where each vote of the frame sits in `style_votes`' order (by pair, then score)."""
    sv = prepared(votes)
    left = pd.Index(sv.contenders).get_indexer(votes.left_contender)
    right = pd.Index(sv.contenders).get_indexer(votes.right_contender)
    first, second = np.minimum(left, right), np.maximum(left, right)
    score = np.where(votes.outcome == "tie", 0.5, (votes.outcome == "left").to_numpy() * 1.0)
    score = np.where(left > right, 1.0 - score, score)
    return np.lexsort((score, first * len(sv.contenders) + second))


def test_the_fit_agrees_with_an_unpenalised_logistic_regression_on_the_same_design():
    votes, _ = simulated(4000, seed=1, length_effect=0.5, ties=0.15)
    sv = prepared(votes)
    params = fit_style(sv)[0]
    theta, coefficients = unpenalised_fit(sv)
    k = len(sv.contenders)
    assert np.abs(RATING_SCALE * (theta - params[:k])).max() < 1e-4        # rating points
    assert np.abs(coefficients - params[k:]).max() < 1e-4
    # and the board shows those ratings and coefficients
    result = style_leaderboard(votes, bootstrap=0)
    board = result.board.set_index("contender")
    expected = pd.Series(1000 + RATING_SCALE * theta, index=sv.contenders)
    assert np.abs(board.rating - expected.reindex(board.index)).max() < 1e-4
    assert np.abs(result.coefficients.coefficient.to_numpy() - coefficients).max() < 1e-4


def test_a_planted_length_effect_is_recovered_and_removed_from_the_ratings():
    votes, truth = simulated(8000, seed=2, length_effect=0.6, verbose=0)
    result = style_leaderboard(votes, bootstrap=200, seed=0)
    coefficients = result.coefficients.set_index("feature")
    length = coefficients.loc["length"]
    assert length.ci_low < 0.6 < length.ci_high and length.ci_low > 0.4
    assert (coefficients.loc[["headers", "lists", "bold"], "coefficient"].abs() < 0.1).all()
    # model-00's long answers win it votes: the raw rating is inflated, the controlled one is not
    verbose = result.board.set_index("contender").loc["model-00"]
    true_rating = 1000 + RATING_SCALE * truth["model-00"]
    assert verbose.raw_rating - true_rating > 40
    assert verbose.ci_low < true_rating < verbose.ci_high and verbose.ci_high - verbose.ci_low < 40


def test_bootstrap_rounds_equal_one_exact_fit_per_round_on_the_same_weights():
    votes, _ = simulated(1500, seed=3, length_effect=0.4, ties=0.1)
    sv = prepared(votes)
    start = fit_style(sv)[0]
    together, raw = bootstrap_style(sv, 30, seed=4, start=start, raw_start=np.zeros(len(sv.contenders)))
    weights = poisson_weights(np.random.default_rng(4), len(sv.pair), 30)
    one_by_one = fit_style(sv, weights.T, tol=1e-10)
    assert np.abs(together - one_by_one).max() < 1e-4
    assert together.std(axis=0).min() > 0.01                       # the rounds do differ
    # the plain rounds are the plain leaderboard's fit on the same weights, vote by vote
    for row in (0, 29):
        repeated = votes.loc[votes.index.repeat(weights[np.argsort(sv_order(votes)), row])]
        assert np.abs(raw[row] - fit_theta(matchups(repeated), matchups(repeated).count)[0]).max() < 1e-6


def test_poisson_weights_have_the_poisson_mean_and_spread():
    weights = poisson_weights(np.random.default_rng(0), 2000, 500)
    assert weights.dtype == np.uint8 and weights.shape == (2000, 500)
    assert weights.mean() == pytest.approx(1.0, abs=0.01) and weights.var() == pytest.approx(1.0, abs=0.02)
    assert (weights == 0).mean() == pytest.approx(np.exp(-1), abs=0.01)


def test_the_board_has_both_leaderboards_and_is_seeded():
    votes, _ = simulated(1200, seed=5, length_effect=0.3)
    result = style_leaderboard(votes, bootstrap=100, seed=7)
    assert list(result.board.columns) == BOARD_COLUMNS and list(result.coefficients.columns) == COEFFICIENT_COLUMNS
    assert list(result.coefficients.feature) == list(STYLE_FEATURES)
    raw = leaderboard(votes, bootstrap=100, seed=7).set_index("contender").reindex(result.board.contender)
    board = result.board.set_index("contender")
    assert np.abs(board.raw_rating - raw.rating).max() < 1e-6 and (board.raw_rank == raw["rank"]).all()
    # the raw intervals come from the style-control rounds: the plain leaderboard's, up to resampling noise
    width = (raw.ci_high - raw.ci_low).mean()
    assert np.abs(board.raw_ci_low - raw.ci_low).max() < width / 4
    assert np.abs(board.raw_ci_high - raw.ci_high).max() < width / 4
    assert ((board.ci_low < board.rating) & (board.rating < board.ci_high)).all()
    assert ((board.rank_low <= board["rank"]) & (board["rank"] <= board.rank_high)).all()
    assert list(board["rank"]) == sorted(board["rank"])
    again = style_leaderboard(votes, bootstrap=100, seed=7)
    pd.testing.assert_frame_equal(result.board, again.board)
    pd.testing.assert_frame_equal(result.coefficients, again.coefficients)


def test_answers_without_style_and_no_votes_are_handled():
    votes, _ = simulated(300, seed=6)
    for feature in STYLE_FEATURES:                                 # images: no text, all counts zero
        votes[f"left_{feature}"] = votes[f"right_{feature}"] = 0
    result = style_leaderboard(votes, bootstrap=20)
    assert (result.coefficients.coefficient.abs() < 1e-9).all()
    assert np.allclose(result.board.rating, result.board.raw_rating, atol=1e-3)
    empty = style_leaderboard(votes.iloc[:0], bootstrap=20)
    assert empty.board.empty and list(empty.board.columns) == BOARD_COLUMNS
