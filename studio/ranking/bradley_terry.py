"""Bradley-Terry scores with bootstrap intervals, every bootstrap round fitted at once.

The model: contender i beats j with probability 1 / (1 + exp(theta_j - theta_i)); a tie
counts half a win to each side. Scores are the maximum-likelihood strengths exp(theta)
normalised to sum 1; ratings put theta on the familiar Elo-like scale
(400 * log10, the mean rating anchored at 1000).

Votes are first collapsed to their unique (left, right, outcome) rows with counts, then to
unordered pairs of contenders: the fit only needs, per pair, the first contender's wins
(ties as halves) and the battles. A bootstrap round resamples the votes with replacement;
R rounds are drawn pair by pair (a multinomial over pairs, then binomials for the
outcomes, which is exactly the multinomial over all rows) into (pairs x rounds) arrays.
Newton's method then runs on all rounds together: one batched (rounds x contenders x
contenders) linear solve per iteration, starting from the fit on all votes, until every
round has converged. The log-likelihood is concave, so this reaches the same maximum as
any other optimiser, in a handful of iterations instead of one optimiser call per round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import expit

from studio.errors import InputError
from studio.ranking.votes import between_contenders, contender_codes, left_scores

RATING_SCALE = 400.0 / np.log(10.0)     # rating points per unit of theta (natural log)
RATING_MEAN = 1000.0
# A ridge on theta (in units of votes): a Gaussian prior so wide (sd 1000 in theta) that it
# only matters when the maximum-likelihood strength is infinite, i.e. a contender has only
# wins or only losses in a sample; it keeps that fit finite (far below or above the rest).
# On real data it moves ratings by far less than 0.001 points.
DEFAULT_L2 = 1e-6
LEADERBOARD_COLUMNS = ["contender", "score", "rating", "ci_low", "ci_high", "votes", "rank"]
_H_BYTES = 2 ** 27                      # memory for one chunk of Hessians (128 MiB)


@dataclass(frozen=True)
class Matchups:
    """Votes collapsed to unique (left, right, outcome) rows, sorted by those three, with
    how many votes each row stands for."""

    contenders: pd.Index
    left: np.ndarray        # (U,) contender positions
    right: np.ndarray       # (U,)
    score: np.ndarray       # (U,) left side's share of the win: 1, 0.5 or 0
    count: np.ndarray       # (U,) votes

    @property
    def n_votes(self) -> int:
        return int(self.count.sum())

    def votes_per_contender(self) -> np.ndarray:
        size = len(self.contenders)
        return (np.bincount(self.left, self.count, size) + np.bincount(self.right, self.count, size)).astype(int)


def matchups(votes: pd.DataFrame) -> Matchups:
    """Collapse a vote frame (left_contender, right_contender, outcome) to unique rows."""
    votes = between_contenders(votes, what="a Bradley-Terry fit")
    names, left, right = contender_codes(votes)
    codes = np.rint(2 * left_scores(votes["outcome"])).astype(np.int64)   # 0 right won, 1 tie, 2 left won
    size = max(len(names), 1)
    keys, count = np.unique((left.astype(np.int64) * size + right) * 3 + codes, return_counts=True)
    pair, code = np.divmod(keys, 3)
    return Matchups(contenders=names, left=(pair // size).astype(np.intp), right=(pair % size).astype(np.intp),
                    score=code / 2.0, count=count)


def fit_theta(m: Matchups, weights: np.ndarray, *, start: np.ndarray | None = None, l2: float = DEFAULT_L2,
              tol: float = 1e-6, max_iter: int = 100) -> np.ndarray:
    """Maximum-likelihood theta (centred, natural-log scale) for each row of `weights`
    ((rounds x rows) vote counts, or one vector of them); returns (rounds x contenders).
    `start` (one theta) is where Newton's method starts, zeros by default."""
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    return _fit(_Pairs.of(m, weights), start=start, l2=l2, tol=tol, max_iter=max_iter)


def bootstrap_theta(m: Matchups, rounds: int, seed: int = 0, *, start: np.ndarray | None = None,
                    l2: float = DEFAULT_L2, tol: float = 1e-6, max_iter: int = 100) -> np.ndarray:
    """Theta (rounds x contenders) of `rounds` resamplings of the votes with replacement,
    seeded. The best `start` is the fit on all votes: each round's maximum is a few
    Newton steps from it."""
    return _fit(_Pairs.resampled(m, rounds, seed), start=start, l2=l2, tol=tol, max_iter=max_iter)


def _fit(pairs: _Pairs, *, start, l2: float, tol: float, max_iter: int) -> np.ndarray:
    size, rounds = pairs.incidence.shape[0], pairs.wins.shape[1]
    if not rounds:
        return np.zeros((0, size))
    per_chunk = max(1, _H_BYTES // (8 * size * size))
    chunks = [slice(first, first + per_chunk) for first in range(0, rounds, per_chunk)]
    return np.concatenate([_newton(pairs.wins[:, chunk], pairs.totals[:, chunk], pairs, size, start=start, l2=l2,
                                   tol=tol, max_iter=max_iter) for chunk in chunks])


def ratings(theta: np.ndarray) -> np.ndarray:
    """Theta on the Elo-like scale: 400 * log10 of the strength, the mean at 1000."""
    return RATING_MEAN + RATING_SCALE * (theta - theta.mean(axis=-1, keepdims=True))


def scores(theta: np.ndarray) -> np.ndarray:
    """Strengths exp(theta) normalised to sum 1 (the form published Bradley-Terry tables use)."""
    shifted = np.exp(theta - theta.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def leaderboard(votes: pd.DataFrame, *, bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95,
                l2: float = DEFAULT_L2) -> pd.DataFrame:
    """One row per contender, best first: contender, score (sums to 1), rating, the
    bootstrap interval of the rating (NaN without bootstrap), votes and rank."""
    if bootstrap < 0:
        raise InputError(f"bootstrap rounds must be 0 or more, got {bootstrap}")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence}")
    m = matchups(votes)
    if not len(m.contenders):
        return pd.DataFrame({c: pd.Series(dtype=object if c == "contender" else float)
                             for c in LEADERBOARD_COLUMNS})
    theta = fit_theta(m, m.count, l2=l2)[0]
    low = high = np.full(len(m.contenders), np.nan)
    if bootstrap:
        sampled = ratings(bootstrap_theta(m, bootstrap, seed, start=theta, l2=l2))
        low, high = np.quantile(sampled, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    board = pd.DataFrame({"contender": m.contenders.astype(object), "score": scores(theta),
                          "rating": ratings(theta), "ci_low": low, "ci_high": high,
                          "votes": m.votes_per_contender()})
    board = board.sort_values(["rating", "contender"], ascending=[False, True], kind="stable")
    board["rank"] = board["rating"].rank(ascending=False, method="min").astype(int)
    board.attrs.update(bootstrap=bootstrap, seed=seed, confidence=confidence, votes=m.n_votes)
    return board.reset_index(drop=True)


@dataclass(frozen=True)
class _Pairs:
    """The unique rows folded onto unordered pairs (first < second): per round, the first
    contender's wins (ties as halves) and the battles between the two. Arrays keep the
    rounds on the last axis, so gathers and scatters move whole contiguous rows."""

    first: np.ndarray           # (P,)
    second: np.ndarray          # (P,)
    wins: np.ndarray            # (P, R)
    totals: np.ndarray          # (P, R)
    incidence: sparse.csr_array  # (K, P): +1 at first, -1 at second

    @classmethod
    def of(cls, m: Matchups, weights: np.ndarray) -> _Pairs:
        """Pairs from (rounds x rows) vote counts."""
        first, second, inverse = _pair_index(m)
        first_score = np.where(m.left == first[inverse], m.score, 1.0 - m.score)
        rows = np.arange(len(inverse))
        fold = sparse.csr_array((first_score, (inverse, rows)), shape=(len(first), len(rows)))
        per_round = weights.T                                       # (U, R)
        wins = fold @ per_round
        totals = sparse.csr_array((np.ones(len(rows)), (inverse, rows)), shape=fold.shape) @ per_round
        return cls.build(first, second, wins, totals, len(m.contenders))

    @classmethod
    def resampled(cls, m: Matchups, rounds: int, seed: int) -> _Pairs:
        """Pairs of `rounds` resamplings of all votes with replacement, drawn pair by pair:
        how many of the n votes fall on each pair (multinomial), then how those split into
        first won / tie / second won (two binomials). By the chain rule of the multinomial
        this is exactly the multinomial over every (pair, outcome) row, i.e. resampling the
        votes themselves, but it costs draws per pair rather than per vote."""
        first, second, inverse = _pair_index(m)
        outcome = np.where(m.left == first[inverse], m.score, 1.0 - m.score)   # 1 first won, 0.5 tie, 0 lost
        count = np.zeros((len(first), 3))
        np.add.at(count, (inverse, np.rint(2 * outcome).astype(np.intp)), m.count)
        lost, tied, won = count.T
        battles = count.sum(axis=1)
        rng = np.random.default_rng(seed)
        totals = np.ascontiguousarray(rng.multinomial(m.n_votes, battles / battles.sum(), size=rounds).T)
        first_won = rng.binomial(totals, (won / battles)[:, None])
        undecided = tied + lost
        tie_share = np.divide(tied, undecided, out=np.zeros_like(tied), where=undecided > 0)
        ties = rng.binomial(totals - first_won, tie_share[:, None])
        return cls.build(first, second, first_won + 0.5 * ties, totals.astype(float), len(m.contenders))

    @classmethod
    def build(cls, first, second, wins, totals, size: int) -> _Pairs:
        count = np.arange(len(first))
        incidence = sparse.csr_array((np.r_[np.ones(len(first)), -np.ones(len(first))],
                                      (np.r_[first, second], np.r_[count, count])), shape=(size, len(first)))
        return cls(first, second, np.asarray(wins, dtype=float), np.asarray(totals, dtype=float), incidence)

    def differences(self, theta: np.ndarray) -> np.ndarray:
        """(K, R) theta -> (P, R) theta_first - theta_second."""
        return np.take(theta, self.first, axis=0) - np.take(theta, self.second, axis=0)

    def to_contenders(self, values: np.ndarray, *, signed: bool = True) -> np.ndarray:
        """Sum (P, R) pair values onto (K, R) contenders (+ first, - second when signed)."""
        return (self.incidence if signed else abs(self.incidence)) @ values


def _pair_index(m: Matchups) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The unordered pairs (first < second) the rows fall on, and each row's pair."""
    size = len(m.contenders)
    keys, inverse = np.unique(np.minimum(m.left, m.right) * size + np.maximum(m.left, m.right),
                              return_inverse=True)
    first, second = np.divmod(keys, size)
    return first.astype(np.intp), second.astype(np.intp), inverse.reshape(-1)


def _log_expit(x: np.ndarray) -> np.ndarray:
    """log(sigmoid(x)) without overflow (a little faster than scipy's log_expit)."""
    return np.minimum(x, 0.0) - np.log1p(np.exp(-np.abs(x)))


def _log_likelihood(theta, wins, totals, pairs: _Pairs, l2: float) -> np.ndarray:
    """Per round: sum of w log s(d) + (n - w) log s(-d), with log s(-d) = log s(d) - d."""
    diff = pairs.differences(theta)
    return ((totals * _log_expit(diff) - (totals - wins) * diff).sum(axis=0)
            - 0.5 * l2 * (theta ** 2).sum(axis=0))


def _newton(wins: np.ndarray, totals: np.ndarray, pairs: _Pairs, size: int, *, start: np.ndarray | None,
            l2: float, tol: float, max_iter: int) -> np.ndarray:
    """Theta (K, R) maximising each round's log-likelihood; wins and totals are (P, R)."""
    rounds = wins.shape[1]
    theta = np.zeros((size, rounds)) if start is None else np.repeat(start[:, None], rounds, axis=1)
    active = np.arange(rounds)
    upper = pairs.first * size + pairs.second
    lower = pairs.second * size + pairs.first
    diagonal = np.arange(size) * (size + 1)
    for _ in range(max_iter):
        th, w, n = theta[:, active], wins[:, active], totals[:, active]
        prob = expit(pairs.differences(th))
        gradient = pairs.to_contenders(w - n * prob) - l2 * th
        curvature = n * prob * (1.0 - prob)
        degree = pairs.to_contenders(curvature, signed=False) + l2
        # theta is only defined up to a constant: adding a multiple of the all-ones matrix
        # fixes that direction (the gradient sums to zero, so the step stays centred).
        ones = degree.mean(axis=0) / size
        hessian = np.repeat(ones[None, :], size * size, axis=0)       # (K*K, R)
        hessian[upper] = ones - curvature
        hessian[lower] = hessian[upper]
        hessian[diagonal] += degree
        step = np.linalg.solve(hessian.T.reshape(-1, size, size), gradient.T[..., None])[..., 0].T
        step = _safeguard(th, step, w, n, pairs, l2)
        theta[:, active] = th + step
        # Newton converges quadratically: after a step of size tol, what is left is ~tol**2.
        active = active[np.abs(step).max(axis=0) > tol]
        if not len(active):
            break
    return (theta - theta.mean(axis=0, keepdims=True)).T


def _safeguard(theta, step, wins, totals, pairs: _Pairs, l2: float) -> np.ndarray:
    """Halve a round's Newton step until it does not lower the log-likelihood.

    Only long steps are checked: the logistic curvature c(x) = s(x)(1 - s(x)) obeys
    |c'| <= c, so along a full Newton step that changes no difference theta_i - theta_j by
    more than D the log-likelihood gains at least (1 - (e^D - 1 - D) / D^2) times the
    predicted gain, which is positive for D <= 1. Steps spanning more than 1 are checked.
    """
    long = np.flatnonzero(np.ptp(step, axis=0) > 1.0)
    if not len(long):
        return step
    theta, wins, totals, long_step = theta[:, long], wins[:, long], totals[:, long], step[:, long]
    before = _log_likelihood(theta, wins, totals, pairs, l2)
    todo = np.arange(len(long))
    for _ in range(50):
        after = _log_likelihood(theta[:, todo] + long_step[:, todo], wins[:, todo], totals[:, todo], pairs, l2)
        todo = todo[after < before[todo] - 1e-12 * np.abs(before[todo])]
        if not len(todo):
            break
        long_step[:, todo] *= 0.5
    step[:, long] = long_step
    return step
