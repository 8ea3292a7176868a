"""Newton's method on many concave log-likelihoods at once: the bootstrap rounds of a fit.

A model (`Likelihood`) knows its votes and the rounds' weights; `maximise` runs Newton's
method on every round together: one batched (rounds x D x D) linear solve per iteration,
a safeguard against steps that would lower a round's log-likelihood, and an active set so
converged rounds drop out. Plain Bradley-Terry (`bradley_terry`) and Bradley-Terry with
style covariates (`style_control`) are two such models.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Likelihood(Protocol):
    def derivatives(self, params: np.ndarray, rounds: np.ndarray, iteration: int) -> tuple[np.ndarray, np.ndarray]:
        """Gradient (D, r) and the negative Hessian (r, D, D), made invertible, of the
        log-likelihood of `rounds` (indices) at `params` (D, r)."""

    def log_likelihood(self, params: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        """(r,) log-likelihood of `rounds` at `params` (D, r)."""

    def largest_change(self, step: np.ndarray) -> np.ndarray:
        """(r,) a bound on how far a step (D, r) moves any vote's log-odds."""

    def remaining(self, size: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        """(r,) how far from its maximum a round still is after a step of `size` (the
        largest change of any parameter); a round stops when this is below tol."""


def maximise(model: Likelihood, start: np.ndarray, *, tol: float, max_iter: int) -> np.ndarray:
    """Parameters (D, R) maximising each round's log-likelihood, from `start` (D, R).

    A round stops when the model's estimate of how far it still is from its maximum
    (`remaining`) is below `tol`."""
    params = np.array(start, dtype=float)
    active = np.arange(params.shape[1])
    for iteration in range(max_iter):
        current = params[:, active]
        gradient, hessian = model.derivatives(current, active, iteration)
        step = np.linalg.solve(hessian, gradient.T[..., None])[..., 0].T
        step = _safeguard(model, current, step, active)
        params[:, active] = current + step
        active = active[model.remaining(np.abs(step).max(axis=0), active) > tol]
        if not len(active):
            break
    return params


def _safeguard(model: Likelihood, params: np.ndarray, step: np.ndarray, rounds: np.ndarray) -> np.ndarray:
    """Halve a round's Newton step until it does not lower the log-likelihood.

    Only long steps are checked: the logistic curvature c(x) = s(x)(1 - s(x)) obeys
    |c'| <= c, so along a full Newton step that changes no vote's log-odds by more than D
    the log-likelihood gains at least (1 - (e^D - 1 - D) / D^2) times the predicted gain,
    which is positive for D <= 1. Steps moving some log-odds by more than 1 are checked.
    """
    long = np.flatnonzero(model.largest_change(step) > 1.0)
    if not len(long):
        return step
    params, long_step = params[:, long], step[:, long]
    before = model.log_likelihood(params, rounds[long])
    todo = np.arange(len(long))
    for _ in range(50):
        after = model.log_likelihood(params[:, todo] + long_step[:, todo], rounds[long[todo]])
        todo = todo[after < before[todo] - 1e-12 * np.abs(before[todo])]
        if not len(todo):
            break
        long_step[:, todo] *= 0.5
    step[:, long] = long_step
    return step
