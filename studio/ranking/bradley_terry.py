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
from scipy.stats import rankdata

from studio.errors import InputError
from studio.ranking.newton import maximise
from studio.ranking.votes import between_contenders, contender_codes, left_scores

RATING_SCALE = 400.0 / np.log(10.0)     # rating points per unit of theta (natural log)
RATING_MEAN = 1000.0
# A ridge on theta (in units of votes): a Gaussian prior so wide (sd 1000 in theta) that it
# only matters when the maximum-likelihood strength is infinite, i.e. a contender has only
# wins or only losses in a sample; it keeps that fit finite (far below or above the rest).
# On real data it moves ratings by far less than 0.001 points.
DEFAULT_L2 = 1e-6
LEADERBOARD_COLUMNS = ["contender", "score", "rating", "ci_low", "ci_high", "votes", "rank", "rank_low", "rank_high"]
_COLUMN_TYPES = {"contender": object, "votes": int, "rank": int, "rank_low": "Int64", "rank_high": "Int64"}
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
    return matchup_rows(votes)[0]


def matchup_rows(votes: pd.DataFrame) -> tuple[Matchups, pd.Series]:
    """The unique rows, and each vote's row (indexed like the votes between two different
    contenders: a vote of a contender against itself has none)."""
    votes = between_contenders(votes, what="a Bradley-Terry fit")
    names, left, right = contender_codes(votes)
    codes = np.rint(2 * left_scores(votes["outcome"])).astype(np.int64)   # 0 right won, 1 tie, 2 left won
    size = max(len(names), 1)
    keys, rows, count = np.unique((left.astype(np.int64) * size + right) * 3 + codes, return_inverse=True,
                                  return_counts=True)
    pair, code = np.divmod(keys, 3)
    m = Matchups(contenders=names, left=(pair // size).astype(np.intp), right=(pair % size).astype(np.intp),
                 score=code / 2.0, count=count)
    return m, pd.Series(rows.reshape(-1), index=votes.index)


def fit_theta(m: Matchups, weights: np.ndarray, *, start: np.ndarray | None = None, l2: float = DEFAULT_L2,
              tol: float = 1e-6, max_iter: int = 100) -> np.ndarray:
    """Maximum-likelihood theta (centred, natural-log scale) for each row of `weights`
    ((rounds x rows) vote counts, or one vector of them); returns (rounds x contenders).
    `start` (one theta) is where Newton's method starts, zeros by default."""
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    return fit_pairs(_Pairs.of(m, weights), start=start, l2=l2, tol=tol, max_iter=max_iter)


def bootstrap_theta(m: Matchups, rounds: int, seed: int = 0, *, start: np.ndarray | None = None,
                    l2: float = DEFAULT_L2, tol: float = 1e-6, max_iter: int = 100) -> np.ndarray:
    """Theta (rounds x contenders) of `rounds` resamplings of the votes with replacement,
    seeded. The best `start` is the fit on all votes: each round's maximum is a few
    Newton steps from it."""
    return fit_pairs(_Pairs.resampled(m, rounds, seed), start=start, l2=l2, tol=tol, max_iter=max_iter)


def fit_pairs(pairs: _Pairs, *, start: np.ndarray | None, l2: float, tol: float, max_iter: int) -> np.ndarray:
    """Theta (rounds x contenders, centred) maximising each round of the pairs' (P, R)
    wins and battles, from `start` (one theta; zeros when None)."""
    size, rounds = pairs.incidence.shape[0], pairs.wins.shape[1]
    if not rounds:
        return np.zeros((0, size))
    per_chunk = max(1, _H_BYTES // (8 * size * size))
    fitted = []
    for first in range(0, rounds, per_chunk):
        chunk = slice(first, first + per_chunk)
        model = _PairLikelihood(pairs, pairs.wins[:, chunk], pairs.totals[:, chunk], l2)
        width = model.wins.shape[1]
        begin = np.zeros((size, width)) if start is None else np.repeat(np.asarray(start)[:, None], width, axis=1)
        theta = maximise(model, begin, tol=tol, max_iter=max_iter)
        fitted.append((theta - theta.mean(axis=0, keepdims=True)).T)
    return np.concatenate(fitted)


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
    bootstrap interval of the rating (NaN without bootstrap), votes, rank, and the
    interval of the rank over the same bootstrap rounds (rank_low to rank_high: the
    contender "ranks 2 to 4"; missing without bootstrap)."""
    check_settings(bootstrap, confidence)
    m = matchups(votes)
    if not len(m.contenders):
        return pd.DataFrame({c: pd.Series(dtype=_COLUMN_TYPES.get(c, float)) for c in LEADERBOARD_COLUMNS})
    theta = fit_theta(m, m.count, l2=l2)[0]
    sampled = bootstrap_theta(m, bootstrap, seed, start=theta, l2=l2) if bootstrap else None
    board = pd.DataFrame({"contender": m.contenders.astype(object), "score": scores(theta),
                          **rating_columns(theta, sampled, confidence), "votes": m.votes_per_contender()})
    board = best_first(board)[LEADERBOARD_COLUMNS]
    board.attrs.update(bootstrap=bootstrap, seed=seed, confidence=confidence, votes=m.n_votes)
    return board


def check_settings(bootstrap: int, confidence: float) -> None:
    if bootstrap < 0:
        raise InputError(f"bootstrap rounds must be 0 or more, got {bootstrap}")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence}")


def rating_columns(theta: np.ndarray, sampled: np.ndarray | None, confidence: float) -> dict[str, np.ndarray]:
    """rating, ci_low, ci_high, rank_low, rank_high of each contender from the fit (theta,
    (K,)) and the bootstrap rounds' fits ((R, K), or None: NaN intervals)."""
    size = len(theta)
    low = high = np.full(size, np.nan)
    rank_low = rank_high = pd.array([pd.NA] * size, dtype="Int64")
    if sampled is not None and len(sampled):
        rounds = ratings(sampled)
        low, high = np.quantile(rounds, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
        rank_low, rank_high = (pd.array(r, dtype="Int64") for r in rank_interval(rounds, confidence))
    return {"rating": ratings(theta), "ci_low": low, "ci_high": high, "rank_low": rank_low, "rank_high": rank_high}


def rank_interval(rounds: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Each contender's rank (1 = best, equal ratings share the better rank) in every round
    of (R, K) ratings, and the (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of
    those ranks: a marginal interval per contender, as for the ratings."""
    ranks = rankdata(-rounds, axis=1, method="min")
    low, high = np.quantile(ranks, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0, method="inverted_cdf")
    return low.astype(int), high.astype(int)


def best_first(board: pd.DataFrame) -> pd.DataFrame:
    """Sorted by rating (then name), with `rank` (equal ratings share the better rank)."""
    board = board.sort_values(["rating", "contender"], ascending=[False, True], kind="stable")
    board["rank"] = board["rating"].rank(ascending=False, method="min").astype(int)
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


class _PairLikelihood:
    """The Bradley-Terry log-likelihood of rounds given as (P, R) wins and battles per
    pair, with a ridge of `l2` on theta; for `newton.maximise`."""

    def __init__(self, pairs: _Pairs, wins: np.ndarray, totals: np.ndarray, l2: float):
        self.pairs, self.wins, self.totals, self.l2 = pairs, wins, totals, l2
        size = pairs.incidence.shape[0]
        self.size = size
        self.upper = pairs.first * size + pairs.second
        self.lower = pairs.second * size + pairs.first
        self.diagonal = np.arange(size) * (size + 1)

    def derivatives(self, theta: np.ndarray, rounds: np.ndarray, iteration: int) -> tuple[np.ndarray, np.ndarray]:
        pairs, size = self.pairs, self.size
        w, n = self.wins[:, rounds], self.totals[:, rounds]
        prob = expit(pairs.differences(theta))
        gradient = pairs.to_contenders(w - n * prob) - self.l2 * theta
        curvature = n * prob * (1.0 - prob)
        degree = pairs.to_contenders(curvature, signed=False) + self.l2
        # theta is only defined up to a constant: adding a multiple of the all-ones matrix
        # fixes that direction (the gradient sums to zero, so the step stays centred).
        ones = degree.mean(axis=0) / size
        hessian = np.repeat(ones[None, :], size * size, axis=0)       # (K*K, R)
        hessian[self.upper] = ones - curvature
        hessian[self.lower] = hessian[self.upper]
        hessian[self.diagonal] += degree
        return gradient, hessian.T.reshape(-1, size, size)

    def log_likelihood(self, theta: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        """Per round: sum of w log s(d) + (n - w) log s(-d), with log s(-d) = log s(d) - d."""
        wins, totals = self.wins[:, rounds], self.totals[:, rounds]
        diff = self.pairs.differences(theta)
        return ((totals * _log_expit(diff) - (totals - wins) * diff).sum(axis=0)
                - 0.5 * self.l2 * (theta ** 2).sum(axis=0))

    def largest_change(self, step: np.ndarray) -> np.ndarray:
        return np.ptp(step, axis=0)

    def remaining(self, size: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        # Newton converges quadratically: after a step of size tol, what is left is ~tol**2.
        return size
