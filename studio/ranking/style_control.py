"""Style control: Bradley-Terry with per-vote style covariates, fitted jointly.

The model (Chatbot Arena's style control): the left answer wins with probability
sigmoid(theta_left - theta_right + beta . z), where z are the vote's style covariates
(`style.style_covariates`: normalised differences in length, headers, lists and bold); a
tie is half a win, as in `bradley_terry`. theta are the contenders' strengths with style
held equal, beta says how much raters reward each style feature (log-odds per unit of
the scaled covariate). The plain Bradley-Terry ratings of the same votes stand beside them,
with intervals from the same bootstrap rounds.

The fit is `newton.maximise` on this likelihood. Bootstrap rounds resample the votes with
Poisson(1) weights (the Poisson bootstrap: each vote is drawn a Poisson number of times
independently of the others, the large-sample form of drawing n votes with replacement;
covariates are per vote, so the rounds cannot be folded onto pairs as the plain
leaderboard's are). All rounds start from the fit on all votes; their first Newton step
is cheap (every round has the same probability per vote there), later steps evaluate every
vote of every round in float32 (`style_model.StyleLikelihood`). A round stops when its
estimated distance to its maximum is below `tol` (default 1e-4 in log-odds, 0.02 rating
points); tests/ranking/test_style_control.py checks the rounds against one exact float64
fit per round on the same weights.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from studio.ranking.bradley_terry import (
    DEFAULT_L2,
    RATING_SCALE,
    _Pairs,
    best_first,
    check_settings,
    fit_pairs,
    rating_columns,
)
from studio.ranking.newton import maximise
from studio.ranking.style import STYLE_FEATURES
from studio.ranking.style_model import (
    StyleLikelihood,
    StyleTerms,
    StyleVotes,
    start_probability,
    style_votes,
)

BOARD_COLUMNS = ["contender", "rating", "ci_low", "ci_high", "rank", "rank_low", "rank_high",
                 "raw_rating", "raw_ci_low", "raw_ci_high", "raw_rank", "raw_rank_low", "raw_rank_high", "votes"]
COEFFICIENT_COLUMNS = ["feature", "coefficient", "ci_low", "ci_high", "points", "scale"]
_BYTES = 2 ** 27                # memory for one chunk of bootstrap weights or Hessians
# Poisson(1) counts from 16-bit uniforms: the count is how many of these thresholds
# (65536 times the Poisson(1) distribution function at 0..7) the uniform reaches.
_POISSON_THRESHOLDS = np.rint(65536 * np.cumsum(np.exp(-1.0) / np.cumprod(np.r_[1.0, np.arange(1.0, 8.0)])))
_POISSON_THRESHOLDS = _POISSON_THRESHOLDS.astype(np.uint16)


@dataclass(frozen=True)
class StyleControl:
    """The style-controlled leaderboard (BOARD_COLUMNS, best first, the raw Bradley-Terry
    columns beside) and the style coefficients with their bootstrap intervals
    (COEFFICIENT_COLUMNS: log-odds per unit of the scaled covariate, `points` the same
    in rating points, `scale` the covariate's root mean square before scaling)."""

    board: pd.DataFrame
    coefficients: pd.DataFrame


def fit_style(sv: StyleVotes, weights: np.ndarray | None = None, *, l2: float = DEFAULT_L2, tol: float = 1e-10,
              max_iter: int = 100) -> np.ndarray:
    """Maximum-likelihood parameters, theta (centred, K) then beta (F), for each row of
    `weights` ((rounds x votes) in the order of `sv`, all ones by default); returns
    (rounds x (K + F)), in float64 from zeros."""
    weights = np.ones((1, len(sv.pair))) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    model = StyleLikelihood(StyleTerms(sv, np.float64), weights.T, l2)
    return _centred(maximise(model, np.zeros((sv.size, len(weights))), tol=tol, max_iter=max_iter), sv).T


def bootstrap_style(sv: StyleVotes, rounds: int, seed: int = 0, *, start: np.ndarray, raw_start: np.ndarray,
                    l2: float = DEFAULT_L2, tol: float = 1e-4, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """`rounds` Poisson resamplings of the votes, seeded: each round's style-control
    parameters (rounds x (K + F)), fitted from `start` (the fit on all votes), and its
    plain Bradley-Terry theta (rounds x K), fitted from `raw_start`."""
    rng = np.random.default_rng(seed)
    n = len(sv.pair)
    per_chunk = max(1, min(_BYTES // max(n, 1), _BYTES // (8 * sv.size * sv.size)))
    terms = StyleTerms(sv, np.float32, start=start_probability(sv, start))
    style, raw = [np.zeros((0, sv.size))], [np.zeros((0, len(sv.contenders)))]
    for first in range(0, rounds, per_chunk):
        weights = poisson_weights(rng, n, min(per_chunk, rounds - first))     # uint8, made float per block
        model = StyleLikelihood(terms, weights, l2)
        begin = np.repeat(start[:, None], weights.shape[1], axis=1)
        style.append(_centred(maximise(model, begin, tol=tol, max_iter=max_iter), sv).T)
        wins, totals = model.tallies                       # counted on the way, in the first iteration
        pairs = _Pairs.build(sv.pairs.first, sv.pairs.second, wins, totals, len(sv.contenders))
        raw.append(fit_pairs(pairs, start=raw_start, l2=l2, tol=1e-6, max_iter=100))
    return np.concatenate(style), np.concatenate(raw)


def raw_theta(sv: StyleVotes, weights: np.ndarray, *, start: np.ndarray | None = None,
              l2: float = DEFAULT_L2) -> np.ndarray:
    """Plain Bradley-Terry theta (rounds x K) of the same votes under (N, rounds) weights."""
    wins, totals = sv.pair_wins(weights)
    pairs = _Pairs.build(sv.pairs.first, sv.pairs.second, wins, totals, len(sv.contenders))
    return fit_pairs(pairs, start=start, l2=l2, tol=1e-6, max_iter=100)


def style_leaderboard(votes: pd.DataFrame, *, features: Iterable[str] = STYLE_FEATURES, bootstrap: int = 1000,
                      seed: int = 0, confidence: float = 0.95, l2: float = DEFAULT_L2,
                      tol: float = 1e-4) -> StyleControl:
    """Style-controlled ratings with bootstrap and rank intervals, the plain Bradley-Terry
    ones beside (raw_*: the same ratings as `leaderboard`, their intervals from the same
    bootstrap rounds as the style-controlled ones), and the style coefficients with
    intervals. Reads left_text/right_text, or left_<feature>/right_<feature> counts
    (`style.with_style_counts`) to skip counting."""
    check_settings(bootstrap, confidence)
    sv = style_votes(votes, features)
    if not len(sv.contenders):
        board = pd.DataFrame({c: pd.Series(dtype=object if c == "contender" else float) for c in BOARD_COLUMNS})
        coefficients = pd.DataFrame({c: pd.Series(dtype=object if c == "feature" else float)
                                     for c in COEFFICIENT_COLUMNS})
        return StyleControl(board, coefficients)
    params = fit_style(sv, l2=l2)[0]
    raw = raw_theta(sv, np.ones((len(sv.pair), 1)), l2=l2)[0]
    sampled = sampled_raw = None
    if bootstrap:
        sampled, sampled_raw = bootstrap_style(sv, bootstrap, seed, start=params, raw_start=raw, l2=l2, tol=tol)
    size = len(sv.contenders)
    board = pd.DataFrame({"contender": sv.contenders.astype(object),
                          **rating_columns(params[:size], None if sampled is None else sampled[:, :size], confidence),
                          "votes": sv.votes_per_contender()})
    plain = best_first(pd.DataFrame({"contender": sv.contenders.astype(object),
                                     **rating_columns(raw, sampled_raw, confidence)}))
    board = best_first(board)
    plain = plain.set_index("contender").reindex(board["contender"])
    for column in ("rating", "ci_low", "ci_high", "rank", "rank_low", "rank_high"):
        board[f"raw_{column}"] = plain[column].to_numpy()
    board.attrs.update(bootstrap=bootstrap, seed=seed, confidence=confidence, votes=len(sv.pair))
    beta = params[size:]
    low = high = np.full(len(beta), np.nan)
    if sampled is not None:
        low, high = np.quantile(sampled[:, size:], [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    coefficients = pd.DataFrame({"feature": sv.features, "coefficient": beta, "ci_low": low, "ci_high": high,
                                 "points": RATING_SCALE * beta, "scale": sv.scale})
    return StyleControl(board[BOARD_COLUMNS], coefficients)


def poisson_weights(rng: np.random.Generator, n: int, rounds: int) -> np.ndarray:
    """(n x rounds) Poisson(1) counts (uint8) from 16-bit uniforms: a distribution function
    exact to 1 / 65536, no count above 8."""
    counts = np.empty(n * rounds, dtype=np.uint8)
    step = 2 ** 20
    for begin in range(0, len(counts), step):
        out = counts[begin:begin + step]
        uniform = rng.bit_generator.random_raw(-(-len(out) // 4)).view(np.uint16)[:len(out)]
        np.greater_equal(uniform, _POISSON_THRESHOLDS[0], out=out, casting="unsafe")
        for threshold in _POISSON_THRESHOLDS[1:]:
            out += uniform >= threshold
    return counts.reshape(n, rounds)


def _centred(params: np.ndarray, sv: StyleVotes) -> np.ndarray:
    size = len(sv.contenders)
    params[:size] -= params[:size].mean(axis=0, keepdims=True)
    return params
