"""Simulated votes that the ranking benchmarks (and tests/ranking) share: contenders with
known Bradley-Terry strengths, answers with style counts, and the logistic-regression
design of the style-control model for an independent fit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from studio.ranking.style import style_covariates

STYLE_COUNTS = {"headers": 1.0, "lists": 2.0, "bold": 1.0}     # Poisson means per answer


def style_votes(n: int, seed: int, *, contenders: int = 6, spread: float = 0.5, length_effect: float = 0.0,
                ties: float = 0.0, verbose: int | None = None, verbosity: float = 3.0) -> tuple[pd.DataFrame, pd.Series]:
    """n votes between random pairs, each answer with a length (100 to 1,500 characters;
    `verbosity` times that for contender number `verbose`) and Poisson counts of headers,
    list items and bold spans. The left side wins with probability
    sigmoid(theta_l - theta_r + length_effect x the scaled length covariate), theta drawn
    N(0, spread); a share `ties` of the votes are ties whatever the answers. Returns the
    votes and the true theta (centred), by contender name."""
    rng = np.random.default_rng(seed)
    names = np.array([f"model-{i:02d}" for i in range(contenders)], dtype=object)
    theta = rng.normal(0.0, spread, contenders)
    left = rng.integers(0, contenders, n)
    right = (left + rng.integers(1, contenders, n)) % contenders
    votes = pd.DataFrame({"left_contender": names[left], "right_contender": names[right]})
    for side, who in (("left", left), ("right", right)):
        longer = np.where(who == verbose, verbosity, 1.0)
        votes[f"{side}_length"] = (rng.integers(100, 1500, n) * longer).astype(int)
        for feature, mean in STYLE_COUNTS.items():
            votes[f"{side}_{feature}"] = rng.poisson(mean, n)
    z, _ = style_covariates(votes, ["length"])
    won = rng.random(n) < 1.0 / (1.0 + np.exp(-(theta[left] - theta[right] + length_effect * z[:, 0])))
    votes["outcome"] = np.where(rng.random(n) < ties, "tie", np.where(won, "left", "right"))
    return votes, pd.Series(theta - theta.mean(), index=names)


def logistic_design(sv) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The style-control model as a logistic regression on `style_model.StyleVotes`: +1/-1
    for the two contenders (the first contender's column dropped: theta is defined up to a
    constant) and the covariates; each vote a win and a loss weighted by its score (a tie:
    half each). Returns X, y and the sample weights."""
    n, k = len(sv.pair), len(sv.contenders)
    x = np.zeros((n, k))
    x[np.arange(n), sv.pairs.first[sv.pair]] = 1.0
    x[np.arange(n), sv.pairs.second[sv.pair]] = -1.0
    x = np.hstack([x[:, 1:], sv.covariates])
    y, weight = np.r_[np.ones(n), np.zeros(n)], np.r_[sv.score, 1.0 - sv.score]
    keep = weight > 0
    return np.vstack([x, x])[keep], y[keep], weight[keep]


def unpenalised_fit(sv) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's logistic regression without penalty on `logistic_design`: theta
    (centred, K) and the style coefficients (F)."""
    from sklearn.linear_model import LogisticRegression

    x, y, weight = logistic_design(sv)
    coef = LogisticRegression(C=np.inf, fit_intercept=False, solver="newton-cholesky", tol=1e-12,
                              max_iter=1000).fit(x, y, sample_weight=weight).coef_[0]
    k = len(sv.contenders)
    theta = np.r_[0.0, coef[:k - 1]]
    return theta - theta.mean(), coef[k - 1:]
