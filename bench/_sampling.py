"""The pure simulations behind bench/sampling_sim.py: votes collected pair by pair with a
sampler until the leaderboard is precise enough, and a crowd with bad raters in it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studio.ranking.sampling import interval_widths, pair_probabilities, strengths, width_reductions


@dataclass(frozen=True)
class Collection:
    """Votes needed until the mean 95% interval width of the ratings fell below each
    target (None: not within the budget): as estimated from the fit (what the studio
    sees) and at the true strengths (the precision the votes really carry)."""

    votes_needed: dict[float, int | None]
    votes_needed_true: dict[float, int | None]
    votes: int
    theta: np.ndarray
    counts: np.ndarray
    wins: np.ndarray


def collect(truth: np.ndarray, sampler: str, targets: list[float], *, seed: int, batch: int, refresh: float = 0.02,
            floor: float = 0.1,
            sharpness: float | None = None, prior: float = 0.5, ties: float = 0.0, budget: int = 200_000) -> Collection:
    """Votes between contenders of true strengths `truth` in batches of `batch` votes or a
    share `refresh` of the votes so far, whichever is more: pairs drawn uniformly
    ("uniform") or from `pair_probabilities` of the current fit ("active"), the outcome
    from the Bradley-Terry probability (a share `ties` of ties). After each batch the
    strengths are refitted and the mean interval width (`interval_widths` at the fit,
    rating points) is compared with the targets."""
    rng = np.random.default_rng(seed)
    first, second = np.triu_indices(len(truth), k=1)
    counts, wins = np.zeros((len(truth), len(truth))), np.zeros((len(truth), len(truth)))
    theta = np.zeros(len(truth))
    needed: dict[float, int | None] = {target: None for target in targets}
    needed_true = dict(needed)
    votes = 0
    while votes < budget and any(v is None for v in [*needed.values(), *needed_true.values()]):
        size_now = max(batch, int(refresh * votes))
        if sampler == "active":        # one probability vector per batch, as a pool would prepare pairs
            shape = {} if sharpness is None else {"sharpness": sharpness}     # None: the sampler's default
            probabilities = pair_probabilities(theta, counts, floor=floor, prior=prior, **shape)
            pick = rng.choice(len(first), size=size_now, p=probabilities)
        else:
            pick = rng.choice(len(first), size=size_now)
        a, b = first[pick], second[pick]
        np.add.at(counts, (a, b), 1.0)
        np.add.at(counts, (b, a), 1.0)
        won = rng.random(size_now) < 1.0 / (1.0 + np.exp(truth[b] - truth[a]))
        score = np.where(rng.random(size_now) < ties, 0.5, won.astype(float))
        np.add.at(wins, (a, b), score)
        np.add.at(wins, (b, a), 1.0 - score)
        votes += size_now
        theta = strengths(wins, counts, prior=prior, start=theta)
        width = interval_widths(theta, counts, prior=prior).mean()
        true_width = interval_widths(truth, counts, prior=0.0).mean()
        for target in needed:
            if needed[target] is None and width < target:
                needed[target] = votes
            if needed_true[target] is None and true_width < target:
                needed_true[target] = votes
    return Collection(needed, needed_true, votes, theta, counts, wins)


@dataclass(frozen=True)
class Crowd:
    """Votes of a simulated crowd and who is who."""

    votes: pd.DataFrame
    kinds: pd.Series        # rater -> honest | random | left
    truth: pd.Series        # contender -> true theta


def crowd(*, contenders: int, raters: int, votes_each: int, random_share: float, left_share: float, spread: float,
          seed: int, ties: float = 0.1, sharpness: tuple[float, float] = (0.7, 1.3)) -> Crowd:
    """Raters who each vote `votes_each` times on uniformly drawn pairs, sides at random.
    Honest raters follow the Bradley-Terry probabilities with their own sharpness (a factor
    on the strength differences, uniform in `sharpness`: some are noisier than others) and
    call a share `ties` of their votes a tie; random clickers press left or right at random;
    left pressers always press left."""
    rng = np.random.default_rng(seed)
    names = np.array([f"model-{i:02d}" for i in range(contenders)], dtype=object)
    truth = rng.normal(0.0, spread, contenders)
    n_random, n_left = round(raters * random_share), round(raters * left_share)
    kinds = np.array(["random"] * n_random + ["left"] * n_left + ["honest"] * (raters - n_random - n_left))
    rng.shuffle(kinds)
    rater_names = np.array([f"rater-{i:03d}" for i in range(raters)], dtype=object)
    rater = np.repeat(np.arange(raters), votes_each)
    total = len(rater)
    left = rng.integers(0, contenders, total)
    right = (left + rng.integers(1, contenders, total)) % contenders
    factor = rng.uniform(*sharpness, raters)[rater]
    left_won = rng.random(total) < 1.0 / (1.0 + np.exp(-factor * (truth[left] - truth[right])))
    outcome = np.where(rng.random(total) < ties, "tie", np.where(left_won, "left", "right"))
    kind = kinds[rater]
    outcome = np.where(kind == "random", np.where(rng.random(total) < 0.5, "left", "right"), outcome)
    outcome = np.where(kind == "left", "left", outcome)
    frame = pd.DataFrame({"id": np.arange(1, total + 1), "left_contender": names[left],
                          "right_contender": names[right], "outcome": outcome, "rater": rater_names[rater]})
    return Crowd(frame, pd.Series(kinds, index=rater_names), pd.Series(truth - truth.mean(), index=names))


def best_design_saving(truth: np.ndarray, *, iterations: int = 400) -> float:
    """The share of votes the best allocation of votes to pairs saves against uniform
    pairs for the same mean interval width, knowing the true strengths (an allocation
    found by Frank-Wolfe steps toward the pair whose vote narrows the intervals most;
    widths scale as 1 / sqrt(votes), so a width ratio r is a vote saving 1 - r**2)."""
    first, _ = np.triu_indices(len(truth), k=1)
    scale = 1000.0 * len(first)

    def counts(share: np.ndarray) -> np.ndarray:
        matrix = np.zeros((len(truth), len(truth)))
        matrix[np.triu_indices(len(truth), k=1)] = scale * share
        return matrix + matrix.T

    share = np.full(len(first), 1.0 / len(first))
    uniform = interval_widths(truth, counts(share), prior=0.0).mean()
    for step in range(iterations):
        toward = np.zeros(len(first))
        toward[np.argmax(width_reductions(truth, counts(share), prior=0.0))] = 1.0
        share += 2.0 / (step + 3.0) * (toward - share)
    return 1.0 - (interval_widths(truth, counts(share), prior=0.0).mean() / uniform) ** 2
