"""The style-control model: votes prepared for the fit, and their log-likelihood with
its derivatives for `newton.maximise`, over many weighted rounds at once.

The left answer wins with probability sigmoid(theta_left - theta_right + beta . z); a tie
is half a win. Votes are sorted by unordered pair of contenders and evaluated in blocks of
votes x rounds small enough to stay in the CPU cache; within a block the sums per pair are
products of the per-vote terms with the covariate columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from studio.ranking.bradley_terry import _log_expit, _Pairs
from studio.ranking.style import (
    STYLE_FEATURES,
    has_style_counts,
    style_covariates,
    with_style_counts,
)
from studio.ranking.votes import between_contenders, contender_codes, left_scores

_BLOCK = 2 ** 17                # votes x rounds evaluated at once (fits the CPU cache in float32)


@dataclass(frozen=True)
class StyleVotes:
    """Votes sorted by unordered pair of contenders (first < second) and, within a pair, by
    the first contender's share of the win; covariates turned to the first contender's side."""

    contenders: pd.Index
    features: list[str]
    pairs: _Pairs           # the pairs met (first, second, incidence); no counts
    pair: np.ndarray        # (N,) each vote's pair, ascending
    score: np.ndarray       # (N,)
    covariates: np.ndarray  # (N, F)
    scale: np.ndarray       # (F,)

    @property
    def size(self) -> int:
        return len(self.contenders) + len(self.features)

    def votes_per_contender(self) -> np.ndarray:
        count = np.bincount(self.pair, minlength=len(self.pairs.first))
        size = len(self.contenders)
        return (np.bincount(self.pairs.first, count, size) + np.bincount(self.pairs.second, count, size)).astype(int)

    def pair_wins(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per pair and round, from (N, r) vote weights: the first contender's wins (a tie
        half a win) and the battles, for the plain Bradley-Terry fit of the same rounds."""
        runs = np.flatnonzero(np.r_[True, (self.pair[1:] != self.pair[:-1]) | (self.score[1:] != self.score[:-1])])
        ends = np.r_[runs[1:], len(self.pair)]
        counts = np.empty((len(runs), weights.shape[1]))                            # (runs, r)
        step = max(1, len(runs) * _BLOCK // max(weights.size, 1))     # runs summed at once, in float32
        for first in range(0, len(runs), step):
            begin, end = runs[first], ends[min(first + step, len(runs)) - 1]
            block = weights[begin:end].astype(np.float32)
            counts[first:first + step] = np.add.reduceat(block, runs[first:first + step] - begin, axis=0)
        per_pair = np.flatnonzero(np.r_[True, self.pair[runs][1:] != self.pair[runs][:-1]])
        wins = np.add.reduceat(counts * self.score[runs][:, None], per_pair, axis=0)
        return wins, np.add.reduceat(counts, per_pair, axis=0)


def style_votes(votes: pd.DataFrame, features: Iterable[str] = STYLE_FEATURES) -> StyleVotes:
    """The votes between two contenders, prepared for the style-control fit (style counts
    are taken from the frame's left_/right_ count columns, or counted from the texts)."""
    features = list(features)
    votes = between_contenders(votes, what="style control")
    if not has_style_counts(votes, features):
        votes = with_style_counts(votes)
    covariates, scale = style_covariates(votes, features)
    names, left, right = contender_codes(votes)
    score = left_scores(votes["outcome"])
    flip = left > right
    first, second = np.where(flip, right, left), np.where(flip, left, right)
    score = np.where(flip, 1.0 - score, score)
    covariates = np.where(flip[:, None], -covariates, covariates)
    keys, pair = np.unique(first.astype(np.int64) * max(len(names), 1) + second, return_inverse=True)
    pair = pair.reshape(-1)
    order = np.lexsort((score, pair))
    pair_first, pair_second = np.divmod(keys, max(len(names), 1))
    pairs = _Pairs.build(pair_first.astype(np.intp), pair_second.astype(np.intp), np.zeros((len(keys), 0)),
                         np.zeros((len(keys), 0)), len(names))
    return StyleVotes(names, features, pairs, pair[order], score[order], covariates[order], scale)


def start_probability(sv: StyleVotes, params: np.ndarray) -> np.ndarray:
    """(N,) the first contender's win probability per vote at one parameter vector."""
    size = len(sv.contenders)
    eta = sv.pairs.differences(params[:size])[sv.pair] + sv.covariates @ params[size:]
    return 1.0 / (1.0 + np.exp(-eta))


class StyleTerms:
    """What every round's evaluation shares: per vote the covariate columns [1, z, z_f z_g
    (f <= g)] and the score in the working dtype and, with `start` (each vote's probability
    at the common start of all rounds), the fixed terms of the first iteration; and the
    blocks of votes evaluated at once."""

    def __init__(self, sv: StyleVotes, dtype, start: np.ndarray | None = None):
        self.sv, self.dtype = sv, dtype
        self.k, self.f = len(sv.contenders), len(sv.features)
        z = sv.covariates
        self.triangle = np.triu_indices(self.f)       # the products z_f z_g, f <= g
        zz = z[:, self.triangle[0]] * z[:, self.triangle[1]]
        self.columns = np.column_stack([np.ones(len(z)), z, zz]).astype(dtype)   # (N, 1 + F + F(F+1)/2)
        self.score = sv.score.astype(dtype)
        self.reach = np.abs(z).max(axis=0, initial=0.0)
        self.at_start = None if start is None else self._start_terms(start)
        self.blocks = cache(self._blocks)

    def _start_terms(self, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per vote at the start: [v, c, c z, score, 1] (summed per pair: the last two are
        the plain Bradley-Terry tallies) and [v z, c z_f z_g] (summed over all votes),
        v = score - probability and c = p (1 - p)."""
        f, z, score = self.f, self.sv.covariates, self.sv.score
        v, c = score - start, start * (1.0 - start)
        per_pair = np.column_stack([v, c, c[:, None] * z, score, np.ones(len(z))]).astype(self.dtype)
        overall = np.column_stack([v[:, None] * z, c[:, None] * self.columns[:, 1 + f:]]).astype(self.dtype)
        return per_pair, overall

    def _blocks(self, rounds: int) -> list[tuple[int, int, np.ndarray, np.ndarray]]:
        """(begin, end, pairs, starts): vote ranges of about _BLOCK / rounds votes, whole
        pairs where they fit (a pair with more votes is cut), the pairs each range holds
        and where each pair's votes start within it."""
        step = max(64, _BLOCK // max(rounds, 1))
        pair = self.sv.pair
        cuts = np.r_[np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]), len(pair)]
        blocks, begin = [], 0
        while begin < len(pair):
            end = cuts[np.searchsorted(cuts, begin + step, side="right") - 1]
            end = min(begin + step, len(pair)) if end <= begin else end
            starts = np.flatnonzero(np.r_[True, pair[begin + 1:end] != pair[begin:end - 1]])
            blocks.append((begin, end, pair[begin + starts], starts))
            begin = end
        return blocks


class StyleLikelihood:
    """Log-likelihood of rounds given as (N, R) vote weights (any numeric dtype: converted a
    block at a time), with a ridge of `l2` on all parameters; for `newton.maximise`.

    With the terms' start, the first iteration evaluates no probabilities: its sums are
    fixed per-vote terms times the weights (and give the rounds' plain pair tallies,
    `tallies`, on the way). The second iteration is a full Newton step too; after that a
    round's Hessian is kept while its steps shrink at least fourfold from one to the next
    (the chord method: exact gradients, the last exact Hessian, an evaluation at half the
    cost) and computed again when they do not. A round stops when the estimated distance to
    its maximum (`remaining`) is below tol: a bootstrap round, which starts near its
    maximum, usually after two iterations."""

    def __init__(self, terms: StyleTerms, weights: np.ndarray, l2: float):
        self.terms, self.sv, self.weights, self.l2 = terms, terms.sv, weights, l2
        self.k, self.f, self.dtype = terms.k, terms.f, terms.dtype
        rounds, size = weights.shape[1], self.k + self.f
        self.hessian = np.zeros((rounds, size, size))
        self.last = np.full((size, rounds), np.nan)
        self.moved = np.full(rounds, np.inf)        # the step that led to the last evaluation
        self.fresh = np.zeros(rounds, dtype=bool)    # whether the last evaluation renewed the Hessian
        self.fresh_before = np.zeros(rounds, dtype=bool)
        self.tallies: tuple[np.ndarray, np.ndarray] | None = None   # per pair and round: wins, battles

    def derivatives(self, params: np.ndarray, rounds: np.ndarray, iteration: int) -> tuple[np.ndarray, np.ndarray]:
        moved = np.nan_to_num(np.abs(params - self.last[:, rounds]).max(axis=0), nan=np.inf)
        before = self.moved[rounds]
        # a new Hessian the first two times (a Newton step from the start, then one from
        # where it led) and whenever the steps stop shrinking fourfold
        renewing = np.isinf(moved) | np.isinf(before) | (moved > 0.25 * before)
        renew = np.flatnonzero(renewing)
        self.moved[rounds], self.last[:, rounds] = moved, params
        self.fresh_before[rounds], self.fresh[rounds] = self.fresh[rounds], renewing
        with threadpool_limits(1, user_api="blas"):     # small products: BLAS threads only add hand-offs
            if iteration == 0 and self.terms.at_start is not None:
                residual, residual_z, curvature, curvature_zz = self._sums_at_start(rounds)
            else:
                residual, residual_z, curvature, curvature_zz = self._sums(params, rounds, renew)
        pairs = self.sv.pairs
        gradient = np.concatenate([pairs.to_contenders(residual), residual_z]) - self.l2 * params
        if len(renew):
            self.hessian[rounds[renew]] = self._hessian(curvature, curvature_zz)
        return gradient, self.hessian[rounds]

    def _sums_at_start(self, rounds: np.ndarray):
        """The sums of `_sums` with every round at the start, where each vote's terms are
        the same in every round: products of fixed terms with the weights."""
        f, r = self.f, len(rounds)
        per_pair, overall = self.terms.at_start
        pair_sums = np.zeros((per_pair.shape[1], len(self.sv.pairs.first), r))
        overall_sums = np.zeros((overall.shape[1], r))
        for begin, end, touched, starts in self.terms.blocks(r):
            weight = self._weights(begin, end, rounds)
            pair_sums[:, touched] += _pair_sums(per_pair[begin:end], weight, starts)
            overall_sums += overall[begin:end].T @ weight
        if r == self.weights.shape[1]:
            self.tallies = (pair_sums[-2], pair_sums[-1])
        return pair_sums[0], overall_sums[:f], pair_sums[1:2 + f], overall_sums[f:]

    def _sums(self, params: np.ndarray, rounds: np.ndarray, renew: np.ndarray):
        """Weighted sums at `params` (v = score - probability, c = p (1 - p), w the round's
        vote weights): per pair and round the sum of w v, over all votes w v z; for the
        rounds in `renew`, per pair the sums of w c [1, z] and over all votes w c z_f z_g (f <= g)."""
        k, f, pairs = self.k, self.f, self.sv.pairs
        r, count, every = params.shape[1], len(pairs.first), len(renew) == params.shape[1]
        differences = pairs.differences(params[:k]).astype(self.dtype)
        beta = params[k:].astype(self.dtype)
        residual, residual_z = np.zeros((count, r)), np.zeros((f, r))
        curvature = np.zeros((1 + f, count, len(renew)))
        curvature_zz = np.zeros((self.terms.columns.shape[1] - 1 - f, len(renew)))
        columns_all, score = self.terms.columns, self.terms.score
        for begin, end, touched, starts in self.terms.blocks(r):
            columns = columns_all[begin:end]
            prob = self._probability(columns, differences, beta, touched, starts)
            weight = self._weights(begin, end, rounds)
            v = np.subtract(score[begin:end, None], prob)
            v *= weight
            residual[touched] += np.add.reduceat(v, starts, axis=0)
            residual_z += columns[:, 1:1 + f].T @ v
            if len(renew):
                chosen = prob if every else prob[:, renew]
                c = chosen * (1.0 - chosen)
                c *= weight if every else weight[:, renew]
                curvature[:, touched] += _pair_sums(columns[:, :1 + f], c, starts)
                curvature_zz += columns[:, 1 + f:].T @ c
        return residual, residual_z, curvature, curvature_zz

    def _probability(self, columns, differences, beta, touched, starts) -> np.ndarray:
        """(votes x rounds) the first contender's win probability."""
        eta = columns[:, 1:1 + self.f] @ beta
        if len(touched) == 1:
            eta += differences[touched[0]]
        else:
            eta += np.repeat(differences[touched], np.diff(np.r_[starts, len(eta)]), axis=0)
        with np.errstate(over="ignore"):
            np.negative(eta, out=eta)
            np.exp(eta, out=eta)
        eta += 1.0
        return np.reciprocal(eta, out=eta)

    def _weights(self, begin, end, rounds):
        block = self.weights[begin:end]
        block = block if len(rounds) == block.shape[1] else block[:, rounds]
        return block.astype(self.dtype, copy=False)

    def _hessian(self, curvature: np.ndarray, curvature_zz: np.ndarray) -> np.ndarray:
        """(r, D, D) from per-pair sums of c and c z ((1 + F, P, r)) and all votes' c z_f z_g
        (f <= g). The theta block is the Laplacian of the pair curvatures, with the
        all-ones direction fixed as in bradley_terry (adding a multiple of the all-ones
        matrix: theta is only defined up to a constant)."""
        k, f, pairs = self.k, self.f, self.sv.pairs
        first, second = pairs.first, pairs.second
        r = curvature.shape[2]
        hessian = np.zeros((r, k + f, k + f))
        degree = pairs.to_contenders(curvature[0], signed=False) + self.l2          # (K, r)
        hessian[:, first, second] = hessian[:, second, first] = -curvature[0].T
        hessian[:, np.arange(k), np.arange(k)] = degree.T
        hessian[:, :k, :k] += (degree.mean(axis=0) / k)[:, None, None]
        for feature in range(f):
            coupling = pairs.to_contenders(curvature[1 + feature]).T             # (r, K)
            hessian[:, :k, k + feature] = coupling
            hessian[:, k + feature, :k] = coupling
        row, column = self.terms.triangle
        hessian[:, k + row, k + column] = curvature_zz.T
        hessian[:, k + column, k + row] = curvature_zz.T
        hessian[:, k:, k:] += self.l2 * np.eye(f)
        return hessian

    def log_likelihood(self, params: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        k = self.k
        differences = self.sv.pairs.differences(params[:k])
        eta_pairs = differences[self.sv.pair]
        total = np.zeros(params.shape[1])
        for begin, end, _, _ in self.terms.blocks(params.shape[1]):
            eta = self.sv.covariates[begin:end] @ params[k:] + eta_pairs[begin:end]
            weight = self._weights(begin, end, rounds)
            total += (weight * (_log_expit(eta) - (1.0 - self.sv.score[begin:end, None]) * eta)).sum(axis=0)
        return total - 0.5 * self.l2 * (params ** 2).sum(axis=0)

    def largest_change(self, step: np.ndarray) -> np.ndarray:
        return np.ptp(step[:self.k], axis=0) + self.terms.reach @ np.abs(step[self.k:])

    def remaining(self, size: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        """After a Newton step (a new Hessian) what is left is of the order of size**2, as
        in bradley_terry. After two chord steps in a row shrinking by q, at most
        q / (1 - q) times the last step is left; after the first one, the step itself."""
        before = self.moved[rounds]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = size / before
            chord = np.where(rate < 1.0, size * rate / (1.0 - rate), np.inf)
        chord = np.where(self.fresh_before[rounds] | np.isinf(before), size, chord)
        return np.where(self.fresh[rounds], size ** 2, chord)


def _pair_sums(columns: np.ndarray, values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(m, pairs, r): for each pair's run of votes (from `starts`), columns (n, m) times
    values (n, r) summed over its votes."""
    if len(starts) == 1:
        return (columns.T @ values)[:, None, :]
    if values.shape[1] <= 8:
        return np.add.reduceat(columns[:, :, None] * values[:, None, :], starts, axis=0).transpose(1, 0, 2)
    ends = np.r_[starts[1:], len(values)]
    return np.stack([columns[a:b].T @ values[a:b] for a, b in zip(starts, ends, strict=True)], axis=1)
