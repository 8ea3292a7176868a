"""Active pair selection: the expected narrowing of the rating intervals per pair, the
probabilities with their uniform floor, seeded draws, and reward-model uncertainty among
items of one pair."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from studio.errors import InputError
from studio.ranking import leaderboard
from studio.ranking.sampling import (
    PAIR_COLUMNS,
    choose_pair,
    interval_widths,
    next_pairs,
    pair_probabilities,
    pair_tallies,
    prediction_spread,
    strengths,
    uncertain_first,
    width_reductions,
)
from tests.ranking.helpers import frame


def well_measured_but_one(votes: float = 200.0) -> np.ndarray:
    """Four contenders of equal strength: every pair among A, B, C has `votes` votes, D
    has met A twice and nobody else."""
    counts = np.full((4, 4), votes)
    counts[3, :] = counts[:, 3] = 0.0
    counts[0, 3] = counts[3, 0] = 2.0
    np.fill_diagonal(counts, 0.0)
    return counts


def test_the_pair_with_the_uncertain_contender_is_chosen():
    counts = well_measured_but_one()
    probabilities = pair_probabilities(np.zeros(4), counts, floor=0.1)
    first, second = np.triu_indices(4, k=1)
    with_d = second == 3
    assert with_d[np.argmax(probabilities)]
    assert probabilities[with_d].sum() > 0.9
    # D has met only A: a vote against B or C (which also ties D to the rest) helps more
    assert probabilities[(first == 1) & with_d] > probabilities[(first == 0) & with_d]
    drawn = [choose_pair(probabilities, "ABCD", rng=seed) for seed in range(300)]
    assert sum("D" in pair for pair in drawn) > 250


def test_every_pair_keeps_the_uniform_floor():
    rng = np.random.default_rng(0)
    theta = rng.normal(0, 2.0, 12)
    counts = rng.integers(0, 300, (12, 12)).astype(float)
    counts = np.triu(counts, 1) + np.triu(counts, 1).T
    pairs = 12 * 11 // 2
    for floor in (0.0, 0.05, 0.2, 1.0):
        probabilities = pair_probabilities(theta, counts, floor=floor, sharpness=2.0)
        assert probabilities.sum() == pytest.approx(1.0)
        assert (probabilities >= floor / pairs - 1e-15).all()
    assert np.allclose(pair_probabilities(theta, counts, floor=1.0), 1.0 / pairs)
    with pytest.raises(InputError, match="floor must be between 0 and 1"):
        pair_probabilities(theta, counts, floor=1.5)


def test_the_reduction_is_what_one_more_vote_does_to_the_widths():
    rng = np.random.default_rng(1)
    theta = rng.normal(0, 1.0, 6)
    counts = rng.integers(1, 40, (6, 6)).astype(float)
    counts = np.triu(counts, 1) + np.triu(counts, 1).T
    before = interval_widths(theta, counts).sum()
    first, second = np.triu_indices(6, k=1)
    for pair in range(len(first)):
        more = counts.copy()
        more[first[pair], second[pair]] += 1
        more[second[pair], first[pair]] += 1
        assert width_reductions(theta, counts)[pair] == pytest.approx(before - interval_widths(theta, more).sum(),
                                                                     rel=1e-6)


def test_interval_widths_match_the_bootstrap_leaderboard():
    rng = np.random.default_rng(2)
    truth = np.array([-1.0, -0.3, 0.0, 0.4, 1.2])
    left = rng.integers(0, 5, 3000)
    right = (left + rng.integers(1, 5, 3000)) % 5
    won = rng.random(3000) < 1 / (1 + np.exp(truth[right] - truth[left]))
    names = np.array(list("abcde"), dtype=object)
    votes = pd.DataFrame({"left_contender": names[left], "right_contender": names[right],
                          "outcome": np.where(won, "left", "right")})
    board = leaderboard(votes, bootstrap=1000, seed=3).set_index("contender").loc[list(names)]
    wins, counts = pair_tallies(votes, list(names))
    widths = interval_widths(strengths(wins, counts, prior=0.0), counts, prior=0.0)
    assert np.allclose(widths, board.ci_high - board.ci_low, rtol=0.15)


def test_choose_pair_is_seeded_and_checks_its_input():
    probabilities = pair_probabilities(np.zeros(5), np.ones((5, 5)) - np.eye(5))
    names = list("vwxyz")
    assert [choose_pair(probabilities, names, rng=7) for _ in range(5)] == [choose_pair(probabilities, names, rng=7)] * 5
    assert len({choose_pair(probabilities, names, rng=seed) for seed in range(50)}) > 5
    with pytest.raises(InputError, match="6 pair probabilities for 5 contenders"):
        choose_pair(np.full(6, 1 / 6), names)
    with pytest.raises(InputError, match="at least two contenders"):
        pair_probabilities(np.zeros(1), np.zeros((1, 1)))


def test_next_pairs_from_a_vote_frame_puts_the_newcomer_first():
    votes = frame(*[("a", "b", "left"), ("b", "c", "right"), ("a", "c", "tie")] * 30)
    table = next_pairs(votes, ["a", "b", "c", "new"], floor=0.1)
    assert list(table.columns) == PAIR_COLUMNS and len(table) == 6
    assert table.probability.sum() == pytest.approx(1.0)
    assert "new" in (table.first[0], table.second[0]) and table.votes[0] == 0
    assert table.set_index(["first", "second"]).votes[("a", "b")] == 30


def test_items_the_reward_model_is_least_sure_about_come_first():
    ensemble = np.array([[0.9, 0.91, 0.89],      # sure: the left answer is better
                         [0.2, 0.8, 0.5],        # members disagree
                         [0.5, 0.5, 0.5],        # sure it is even: no spread
                         [0.6, 0.4, 0.55]])
    spreads = prediction_spread(ensemble)
    assert list(uncertain_first(spreads)) == [1, 3, 0, 2]
    # a spread, not the prediction: a confident 0.5 is not uncertain
    assert uncertain_first([np.nan, 0.1, 0.3])[-1] == 0            # no model for that item: last
    ties = [tuple(uncertain_first([0.2, 0.2, 0.2], rng=seed)) for seed in range(20)]
    assert len(set(ties)) > 1 and ties[0] == tuple(uncertain_first([0.2, 0.2, 0.2], rng=0))
    with pytest.raises(InputError, match="two or more members"):
        prediction_spread(np.ones((3, 1)))
    with pytest.raises(InputError, match="cannot be negative"):
        uncertain_first([0.1, -0.2])
