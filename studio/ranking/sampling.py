"""Which pair of contenders to show next: where one more vote narrows the leaderboard most.

The rule (Chatbot Arena, Chiang et al. 2024, active sampling): sample a pair in proportion
to the expected reduction of the confidence-interval width that one more vote on it
brings. Arena writes it for one pair's win rate: sqrt(S_a / n_a) - sqrt(S_a / (n_a + 1)).
Here the intervals are those of the leaderboard's ratings: from the current Bradley-Terry
strengths theta and the votes per pair, the Fisher information of theta is
I = sum over pairs of n_ij p_ij (1 - p_ij) x x^T (x = e_i - e_j), and the ratings'
covariance its pseudo-inverse S (ratings are centred). One more vote on (i, j) adds
w x x^T (w = p_ij (1 - p_ij)), so by Sherman-Morrison each contender's variance drops by
w (S x)_k^2 / (1 + w x^T S x); the pair's score is the sum over contenders of how much
that shrinks the 95% interval, 2 z (sqrt(S_kk) - sqrt(S'_kk)) in rating points.

Arena samples in proportion to that reduction; `sharpness` raises it to a power first. In
bench/sampling_sim.py the Arena's proportion (sharpness 1) saves about 5% of the votes
against uniform pairs at 30 contenders (ratings spread with a standard deviation of 174
points), while the best possible allocation (computed knowing the true strengths) saves
13%; sharpness 16, the default, nearly greedy, saves 13%. A share `floor` of the
probability is spread evenly over all pairs, so every pair keeps at least floor / pairs
and none is starved. `prior` pseudo-votes at even odds on every
pair keep the information finite before every contender has met the others.

Among candidate items of the chosen pair, `uncertain_first` puts first those a reward
model is least sure about, from a spread of its predictions (ensemble members or
bootstrap fits), not from the prediction itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components
from scipy.special import expit
from scipy.stats import norm

from studio.errors import InputError
from studio.ranking.bradley_terry import DEFAULT_L2, RATING_SCALE, _Pairs, fit_pairs
from studio.ranking.votes import left_scores

PAIR_COLUMNS = ["first", "second", "votes", "reduction", "probability"]


def information(theta: np.ndarray, counts: np.ndarray, *, prior: float = 0.5) -> np.ndarray:
    """(K, K) Fisher information of theta from (K, K) votes per pair (symmetric), with
    `prior` votes at even odds added to every pair."""
    theta, counts = np.asarray(theta, dtype=float), np.asarray(counts, dtype=float)
    prob = expit(theta[:, None] - theta[None, :])
    weight = counts * prob * (1.0 - prob) + 0.25 * prior
    np.fill_diagonal(weight, 0.0)
    return np.diag(weight.sum(axis=1)) - weight


def theta_covariance(theta: np.ndarray, counts: np.ndarray, *, prior: float = 0.5) -> np.ndarray:
    """(K, K) covariance of the centred theta: the pseudo-inverse of the information. The
    information of a connected comparison graph is singular only along the all-ones
    direction, so (I + J/K)^-1 - J/K is that pseudo-inverse at the cost of one inverse.
    Infinite when, without a prior, the votes leave some contenders unconnected."""
    info = information(theta, counts, prior=prior)
    if prior <= 0 and connected_components(np.asarray(counts) > 0, directed=False)[0] > 1:
        return np.full(info.shape, np.inf)        # some contenders never compared with the rest
    ones = np.full(info.shape, 1.0 / len(info))
    return np.linalg.inv(info + ones) - ones


def rating_covariance(theta: np.ndarray, counts: np.ndarray, *, prior: float = 0.5) -> np.ndarray:
    """(K, K) covariance of the centred ratings (rating points squared)."""
    return RATING_SCALE ** 2 * theta_covariance(theta, counts, prior=prior)


def interval_widths(theta: np.ndarray, counts: np.ndarray, *, confidence: float = 0.95,
                    prior: float = 0.5) -> np.ndarray:
    """(K,) each rating's normal-approximation interval width, in rating points."""
    return 2 * norm.ppf((1 + confidence) / 2) * np.sqrt(np.clip(np.diag(
        rating_covariance(theta, counts, prior=prior)), 0.0, None))


def width_reductions(theta: np.ndarray, counts: np.ndarray, *, confidence: float = 0.95,
                     prior: float = 0.5) -> np.ndarray:
    """(P,) for each pair (i < j, in np.triu_indices order): how much one more vote on it
    shrinks the sum of the ratings' interval widths (rating points)."""
    theta = np.asarray(theta, dtype=float)
    size = len(theta)
    first, second = np.triu_indices(size, k=1)
    covariance = theta_covariance(theta, counts, prior=prior)
    weight = expit(theta[first] - theta[second])
    weight = weight * (1.0 - weight)
    direction = covariance[:, first] - covariance[:, second]              # (K, P): S x
    spread = direction[first, np.arange(len(first))] - direction[second, np.arange(len(first))]   # x^T S x
    variance = np.clip(np.diag(covariance), 0.0, None)[:, None]
    after = np.clip(variance - weight * direction ** 2 / (1.0 + weight * spread), 0.0, None)
    z = norm.ppf((1 + confidence) / 2)
    return 2 * z * RATING_SCALE * (np.sqrt(variance) - np.sqrt(after)).sum(axis=0)


def pair_probabilities(theta: np.ndarray, counts: np.ndarray, *, floor: float = 0.1, prior: float = 0.5,
                       sharpness: float = 16.0, confidence: float = 0.95) -> np.ndarray:
    """(P,) the probability of showing each pair next (np.triu_indices order): a share
    1 - floor in proportion to width_reductions ** sharpness, the share `floor` evenly,
    so each pair has at least floor / P. sharpness 1 is the Arena's rule."""
    if not 0 <= floor <= 1:
        raise InputError(f"the uniform floor must be between 0 and 1, got {floor}")
    size = len(np.asarray(theta))
    pairs = size * (size - 1) // 2
    if pairs == 0:
        raise InputError("choosing a pair needs at least two contenders")
    reduction = width_reductions(theta, counts, confidence=confidence, prior=prior)
    best = reduction.max()
    score = (reduction / best) ** sharpness if best > 0 and np.isfinite(best) else np.ones(pairs)
    active = score / score.sum()
    return (1.0 - floor) * active + floor / pairs


def choose_pair(probabilities: np.ndarray, contenders: Sequence[str], *,
                rng: np.random.Generator | int | None = None) -> tuple[str, str]:
    """One pair drawn from `pair_probabilities` (seeded when `rng` is a seed or a Generator)."""
    names = list(contenders)
    first, second = np.triu_indices(len(names), k=1)
    if len(probabilities) != len(first):
        raise InputError(f"{len(probabilities)} pair probabilities for {len(names)} contenders "
                         f"(expected {len(first)})")
    pick = np.random.default_rng(rng).choice(len(first), p=np.asarray(probabilities) / np.sum(probabilities))
    return names[first[pick]], names[second[pick]]


def pair_tallies(votes: pd.DataFrame, contenders: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(K, K) wins (row over column, a tie half a win each) and (K, K) symmetric votes per
    pair of `contenders` in a vote frame (votes naming other contenders ignored)."""
    index = pd.Index(list(contenders))
    left = index.get_indexer(votes["left_contender"])
    right = index.get_indexer(votes["right_contender"])
    keep = (left >= 0) & (right >= 0) & (left != right)
    score = left_scores(votes["outcome"])[keep]
    left, right = left[keep], right[keep]
    wins, counts = np.zeros((len(index), len(index))), np.zeros((len(index), len(index)))
    np.add.at(wins, (left, right), score)
    np.add.at(wins, (right, left), 1.0 - score)
    np.add.at(counts, (left, right), 1.0)
    return wins, counts + counts.T


def strengths(wins: np.ndarray, counts: np.ndarray, *, prior: float = 0.5,
              start: np.ndarray | None = None) -> np.ndarray:
    """Bradley-Terry theta (centred) from (K, K) wins and votes per pair, with `prior`
    pseudo-votes of a tie on every pair: early on, before a contender has lost (or won),
    its strength stays finite and near the others'."""
    size = len(counts)
    first, second = np.triu_indices(size, k=1)
    pairs = _Pairs.build(first, second, (wins[first, second] + 0.5 * prior)[:, None],
                         (counts[first, second] + prior)[:, None], size)
    return fit_pairs(pairs, start=start, l2=DEFAULT_L2, tol=1e-6, max_iter=100)[0]


def next_pairs(votes: pd.DataFrame, contenders: Sequence[str], *, floor: float = 0.1, prior: float = 0.5,
               sharpness: float = 16.0) -> pd.DataFrame:
    """PAIR_COLUMNS for every pair of `contenders` from a vote frame: its votes, the
    interval reduction one more vote brings and the probability of showing it next,
    the most useful first. The strengths are `strengths` of those votes."""
    names = list(contenders)
    wins, counts = pair_tallies(votes, names)
    theta = strengths(wins, counts, prior=prior)
    first, second = np.triu_indices(len(names), k=1)
    table = pd.DataFrame({"first": np.array(names, dtype=object)[first],
                          "second": np.array(names, dtype=object)[second],
                          "votes": counts[first, second].astype(int),
                          "reduction": width_reductions(theta, counts, prior=prior),
                          "probability": pair_probabilities(theta, counts, floor=floor, prior=prior,
                                                            sharpness=sharpness)})
    return table.sort_values("probability", ascending=False, kind="stable").reset_index(drop=True)


def prediction_spread(predictions: np.ndarray) -> np.ndarray:
    """(items,) the standard deviation over ensemble members (or bootstrap fits) of each
    item's predicted probability that the left answer is better ((items, members))."""
    predictions = np.asarray(predictions, dtype=float)
    if predictions.ndim != 2 or predictions.shape[1] < 2:
        raise InputError("a prediction spread needs (items x members) predictions from two or more members")
    return predictions.std(axis=1, ddof=1)


def uncertain_first(spreads: Sequence[float], *, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Positions of candidate items (of one contender pair), the reward model's least
    certain first: largest spread first, equal spreads in seeded random order, items
    without a spread (NaN: no model) last."""
    spreads = np.asarray(spreads, dtype=float)
    if (spreads < 0).any():
        raise InputError("spreads are standard deviations of predictions and cannot be negative")
    tiebreak = np.random.default_rng(rng).random(len(spreads))
    return np.lexsort((tiebreak, -np.nan_to_num(spreads, nan=-1.0)))
