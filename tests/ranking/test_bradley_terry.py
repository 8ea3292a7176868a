"""Bradley-Terry: maximum likelihood with ties as half wins, and bootstrap intervals from
all rounds fitted at once that equal one fit per round."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import log_expit

from studio.errors import InputError
from studio.ranking import leaderboard
from studio.ranking.bradley_terry import (
    LEADERBOARD_COLUMNS,
    RATING_SCALE,
    _Pairs,
    bootstrap_theta,
    fit_theta,
    matchups,
)
from tests.ranking.helpers import frame


def by_contender(board: pd.DataFrame) -> pd.DataFrame:
    return board.set_index("contender")


def test_three_wins_in_four_give_three_to_one_odds():
    board = by_contender(leaderboard(frame(*[("A", "B", "left")] * 3, ("A", "B", "right")), bootstrap=0))
    assert board.score["A"] == pytest.approx(0.75, abs=1e-6)
    # 400 * log10(3) rating points apart, the mean at 1000
    assert board.rating["A"] - board.rating["B"] == pytest.approx(400 * math.log10(3), abs=1e-3)
    assert board.rating.mean() == pytest.approx(1000)
    assert list(board.index) == ["A", "B"] and list(board["rank"]) == [1, 2]
    assert list(board.votes) == [4, 4]


def test_a_tie_counts_half_a_win_to_each_side():
    # one win and two ties for A: 2 "wins" to 1, whichever side A sat on
    board = by_contender(leaderboard(frame(("A", "B", "left"), ("B", "A", "tie"), ("A", "B", "both_bad")),
                                     bootstrap=0))
    assert board.score["A"] == pytest.approx(2 / 3, abs=1e-6)


def test_sides_do_not_matter_only_who_won():
    left = leaderboard(frame(("A", "B", "left"), ("A", "C", "right"), ("B", "C", "left"), ("C", "A", "tie")),
                       bootstrap=0)
    mirrored = leaderboard(frame(("B", "A", "right"), ("C", "A", "left"), ("C", "B", "right"), ("A", "C", "tie")),
                           bootstrap=0)
    pd.testing.assert_frame_equal(left, mirrored)


def test_a_balanced_cycle_gives_equal_scores():
    board = leaderboard(frame(("A", "B", "left"), ("B", "C", "left"), ("C", "A", "left")), bootstrap=0)
    assert np.allclose(board.score, 1 / 3) and np.allclose(board.rating, 1000)
    assert list(board["rank"]) == [1, 1, 1]


def random_votes(seed: int, n: int = 400, contenders: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, contenders)
    left = rng.integers(0, contenders, n)
    right = (left + rng.integers(1, contenders, n)) % contenders
    won = rng.random(n) < 1 / (1 + np.exp(strength[right] - strength[left]))
    outcome = np.where(rng.random(n) < 0.15, "tie", np.where(won, "left", "right"))
    names = np.array([f"m{i}" for i in range(contenders)], dtype=object)
    return pd.DataFrame({"left_contender": names[left], "right_contender": names[right], "outcome": outcome})


def scipy_theta(m, weights) -> np.ndarray:
    """An independent optimiser on the same log-likelihood (L-BFGS, tight tolerance)."""
    def loss(theta):
        diff = theta[m.left] - theta[m.right]
        return -(weights * (m.score * log_expit(diff) + (1 - m.score) * log_expit(-diff))).sum()

    theta = minimize(loss, np.zeros(len(m.contenders)), method="L-BFGS-B",
                     options={"gtol": 1e-10, "ftol": 1e-15, "maxiter": 10_000}).x
    return theta - theta.mean()


def test_the_fit_is_the_maximum_likelihood_found_by_another_optimiser_and_by_evalica():
    import evalica

    votes = random_votes(1)
    m = matchups(votes)
    theta = fit_theta(m, m.count)[0]
    assert np.abs(theta - scipy_theta(m, m.count)).max() < 1e-4
    # evalica's minorization-maximization Bradley-Terry, ties as half wins
    winner = {"left": evalica.Winner.X, "right": evalica.Winner.Y, "tie": evalica.Winner.Draw}
    result = evalica.bradley_terry(votes.left_contender.tolist(), votes.right_contender.tolist(),
                                   [winner[o] for o in votes.outcome], tolerance=1e-12, limit=100_000)
    theirs = result.scores / result.scores.sum()
    ours = by_contender(leaderboard(votes, bootstrap=0)).score
    assert np.abs(ours - theirs.reindex(ours.index)).max() < 1e-6


def resample_rows(m, rounds: int, seed: int) -> np.ndarray:
    """Plain bootstrap: (rounds x rows) counts of n votes drawn with replacement."""
    return np.random.default_rng(seed).multinomial(m.n_votes, m.count / m.n_votes, size=rounds)


def test_all_rounds_at_once_equal_one_fit_per_round_and_another_optimiser():
    m = matchups(random_votes(2))
    weights = resample_rows(m, 20, seed=3)
    together = fit_theta(m, weights)
    for row in (0, 7, 19):
        assert np.abs(together[row] - fit_theta(m, weights[row])[0]).max() < 1e-9
        assert np.abs(together[row] - scipy_theta(m, weights[row])).max() * RATING_SCALE < 0.05


def test_drawing_pair_by_pair_resamples_the_votes_like_a_plain_bootstrap():
    m = matchups(random_votes(3, n=300))
    rounds = 4000
    drawn = _Pairs.resampled(m, rounds, seed=0)
    plain = _Pairs.of(m, resample_rows(m, rounds, seed=1).astype(float))
    assert np.array_equal(drawn.first, plain.first) and np.array_equal(drawn.second, plain.second)
    assert (drawn.totals.sum(axis=0) == m.n_votes).all()              # every round has all n votes
    assert np.isin(2 * drawn.wins, np.arange(m.n_votes * 2 + 1)).all()   # whole and half wins only
    # the same mean and spread per pair, within Monte Carlo error (4000 rounds)
    for ours, theirs in ((drawn.totals, plain.totals), (drawn.wins, plain.wins)):
        assert np.abs(ours.mean(axis=1) - theirs.mean(axis=1)).max() < 0.25
        assert np.allclose(ours.std(axis=1), theirs.std(axis=1), rtol=0.1, atol=0.05)
    # and rounds fitted from either give the same 95% interval widths (within 10%)
    start = fit_theta(m, m.count)[0]

    def widths(theta):
        low, high = np.quantile(theta, [0.025, 0.975], axis=0)
        return high - low

    ours = widths(bootstrap_theta(m, rounds, seed=2, start=start))
    theirs = widths(fit_theta(m, resample_rows(m, rounds, seed=3), start=start))
    assert np.allclose(ours, theirs, rtol=0.1)


def test_intervals_are_seeded_and_surround_the_rating():
    votes = random_votes(4)
    board = leaderboard(votes, bootstrap=200, seed=5)
    assert list(board.columns) == LEADERBOARD_COLUMNS
    assert ((board.ci_low < board.rating) & (board.rating < board.ci_high)).all()
    pd.testing.assert_frame_equal(board, leaderboard(votes, bootstrap=200, seed=5))
    assert not np.allclose(board.ci_low, leaderboard(votes, bootstrap=200, seed=6).ci_low)
    assert board[["ci_low", "ci_high"]].isna().all().all() == False  # noqa: E712
    assert leaderboard(votes, bootstrap=0)[["ci_low", "ci_high"]].isna().all().all()


def test_more_votes_narrow_the_interval():
    few = leaderboard(random_votes(5, n=200), bootstrap=200)
    many = leaderboard(random_votes(5, n=3200), bootstrap=200)
    assert (many.ci_high - many.ci_low).mean() < (few.ci_high - few.ci_low).mean() / 2


def test_a_contender_that_never_wins_stays_finite_and_last():
    board = leaderboard(frame(("A", "B", "left"), ("B", "A", "right"), ("A", "C", "left"), ("B", "C", "left"),
                              ("B", "A", "left")), bootstrap=100)
    assert list(board.contender)[-1] == "C"
    assert np.isfinite(board[["score", "rating", "ci_low", "ci_high"]].to_numpy()).all()


def test_no_votes_give_an_empty_board_and_self_matches_are_ignored():
    empty = leaderboard(frame(), bootstrap=10)
    assert empty.empty and list(empty.columns) == LEADERBOARD_COLUMNS
    board = leaderboard(frame(("A", "A", "left"), ("A", "B", "left"), ("A", "B", "right")), bootstrap=0)
    assert list(board.votes) == [2, 2]


def test_an_unknown_outcome_and_bad_settings_are_refused():
    with pytest.raises(InputError, match="unknown vote outcome 'draw'"):
        leaderboard(frame(("A", "B", "draw")))
    with pytest.raises(InputError, match="bootstrap rounds must be 0 or more"):
        leaderboard(frame(("A", "B", "left")), bootstrap=-1)


def test_rank_intervals_come_from_the_bootstrap_rounds():
    # two groups far apart (a and b beat c and d 19 times in 20), within a group an even split
    even = [("a", "b", "left"), ("a", "b", "right"), ("c", "d", "left"), ("c", "d", "right")] * 15
    apart = [(top, low, "left") for top in "ab" for low in "cd"] * 19 + [(top, low, "right") for top in "ab" for low in "cd"]
    board = by_contender(leaderboard(frame(*even, *apart), bootstrap=300, seed=1))
    assert (board.rank_low <= board["rank"]).all() and (board["rank"] <= board.rank_high).all()
    # within a group either may come first; no round puts c or d above a or b
    assert list(board.rank_low[["a", "b", "c", "d"]]) == [1, 1, 3, 3]
    assert list(board.rank_high[["a", "b", "c", "d"]]) == [2, 2, 4, 4]
    assert str(board.rank_low.dtype) == "Int64"


def test_rank_intervals_are_missing_without_bootstrap_and_tight_when_the_order_is_clear():
    clear = [("A", "B", "left")] * 40 + [("B", "C", "left")] * 40 + [("A", "C", "left")] * 40 + [("B", "A", "left")] * 4
    board = by_contender(leaderboard(frame(*clear), bootstrap=200))
    assert list(board.rank_low) == [1, 2, 3] and list(board.rank_high) == [1, 2, 3]
    assert leaderboard(frame(*clear), bootstrap=0)[["rank_low", "rank_high"]].isna().all().all()
