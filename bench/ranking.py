"""Leaderboard speed: the studio's Bradley-Terry bootstrap against Chatbot Arena's method.

    python bench/ranking.py            # 100,000 votes, 50 contenders, 1,000 rounds
    python bench/ranking.py --quick    # 20,000 votes, 100 rounds (a smoke run)

Synthetic votes (10% ties, sides at random) come from 50 contenders with known strengths.
Both sides compute the same thing: Bradley-Terry ratings (400 * log10 scale, mean 1000,
a tie half a win each) and 95% percentile intervals from N bootstrap resamplings of the
votes.

- studio: `studio.ranking.leaderboard`, every round fitted at once (batched Newton).
- reference: the method of Chatbot Arena's published code, written out here: votes
  collapsed to unique (pair, outcome) rows, multinomial bootstrap counts over those rows as
  weights, one scipy L-BFGS fit of the weighted log-likelihood per round (from zeros,
  gtol 1e-6, at most 100 iterations), the rounds spread over the CPU cores with a
  process pool.

The two draw their bootstrap samples differently (the studio pair by pair, the reference
one multinomial over all rows: the same distribution), so their interval bounds differ by
Monte Carlo noise. To show that the fits themselves agree, the studio's batched fit is
also run on the reference's own resamples, round by round. Printed side by side: wall
time, Spearman correlation with the true strengths, and the largest differences (rating
points).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.ranking import leaderboard  # noqa: E402
from studio.ranking.bradley_terry import fit_theta, matchups, ratings  # noqa: E402

SCALE, MEAN = 400.0, 1000.0
OUTCOME_SCORE = {"left": 1.0, "tie": 0.5, "right": 0.0}


def synthetic_votes(n_votes: int, n_contenders: int, tie_share: float, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Votes between random pairs; the left side wins with the Bradley-Terry probability
    of the true strengths, unless the vote is a tie (tie_share of all votes)."""
    rng = np.random.default_rng(seed)
    names = np.array([f"model-{i:02d}" for i in range(n_contenders)], dtype=object)
    truth = rng.normal(0.0, 0.6, n_contenders)                   # log10 strengths: ~ +-250 rating points
    left = rng.integers(0, n_contenders, n_votes)
    right = (left + rng.integers(1, n_contenders, n_votes)) % n_contenders
    left_wins = rng.random(n_votes) < 1.0 / (1.0 + 10.0 ** (truth[right] - truth[left]))
    outcome = np.where(rng.random(n_votes) < tie_share, "tie", np.where(left_wins, "left", "right"))
    votes = pd.DataFrame({"left_contender": names[left], "right_contender": names[right], "outcome": outcome})
    return votes, pd.Series(MEAN + SCALE * truth, index=names)


# -- the reference: Chatbot Arena's published method -------------------------------------------

def arena_rows(votes: pd.DataFrame):
    """Unique (model a, model b, outcome) rows and how many votes each stands for."""
    models = np.unique(np.r_[votes.left_contender.to_numpy(), votes.right_contender.to_numpy()])
    a = np.searchsorted(models, votes.left_contender.to_numpy())
    b = np.searchsorted(models, votes.right_contender.to_numpy())
    rows = np.column_stack([a, b, votes.outcome.map(OUTCOME_SCORE).to_numpy()])
    unique, counts = np.unique(rows, axis=0, return_counts=True)
    return unique[:, :2].astype(int), unique[:, 2], counts, models


def arena_loss(ratings, matchups, outcomes, weights, alpha):
    """Weighted negative Bradley-Terry log-likelihood (a tie is half a win) and its gradient."""
    logits = alpha * (ratings[matchups[:, 0]] - ratings[matchups[:, 1]])
    loss = -(weights * (outcomes * log_expit(logits) + (1.0 - outcomes) * log_expit(-logits))).sum()
    per_row = -alpha * weights * (outcomes - expit(logits))
    gradient = np.bincount(matchups[:, 0], per_row, len(ratings)) - np.bincount(matchups[:, 1], per_row, len(ratings))
    return loss, gradient


def arena_fit(matchups, outcomes, weights, n_models, alpha=np.log(10.0), tol=1e-6):
    result = minimize(arena_loss, np.zeros(n_models), args=(matchups, outcomes, weights, alpha), jac=True,
                      method="L-BFGS-B", options={"maxiter": 100, "gtol": tol})
    return result.x


def arena_leaderboard(votes: pd.DataFrame, rounds: int, seed: int, workers: int):
    """The leaderboard table, and the bootstrap weights and ratings of every round."""
    matchups, outcomes, counts, models = arena_rows(votes)
    n = counts.sum()
    point = arena_fit(matchups, outcomes, counts / n, len(models))
    draws = np.random.default_rng(seed).multinomial(n, counts / n, size=rounds) / n
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        sampled = np.array(pool.map(partial(arena_fit, matchups, outcomes, n_models=len(models)), draws))
    sampled = MEAN + SCALE * sampled
    table = pd.DataFrame({"rating": MEAN + SCALE * point, "ci_low": np.quantile(sampled, 0.025, axis=0),
                          "ci_high": np.quantile(sampled, 0.975, axis=0)}, index=models)
    return table, draws, pd.DataFrame(sampled, columns=models)


def studio_on_the_same_resamples(votes: pd.DataFrame, draws: np.ndarray) -> pd.DataFrame:
    """The studio's batched fit on the reference's resamples (its unique rows are sorted the
    same way, so the weight columns line up)."""
    m = matchups(votes)
    matchups_, outcomes, _, models = arena_rows(votes)
    assert list(m.contenders) == list(models) and np.array_equal(m.left, matchups_[:, 0])
    assert np.array_equal(m.right, matchups_[:, 1]) and np.array_equal(m.score, outcomes)
    theta = fit_theta(m, draws * m.n_votes, start=fit_theta(m, m.count)[0])
    return pd.DataFrame(ratings(theta), columns=m.contenders)


# -- the comparison ------------------------------------------------------------------------------

def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--contenders", type=int, default=50)
    parser.add_argument("--ties", type=float, default=0.10, help="share of tied votes")
    parser.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes for the reference")
    parser.add_argument("--quick", action="store_true", help="20,000 votes and 100 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.votes, args.rounds = 20_000, 100

    votes, truth = synthetic_votes(args.votes, args.contenders, args.ties, args.seed)
    print(f"{len(votes):,} votes ({(votes.outcome == 'tie').mean():.1%} ties), {args.contenders} contenders, "
          f"{args.rounds:,} bootstrap rounds, {os.cpu_count()} CPU cores (reference: {args.workers} processes)")

    leaderboard(votes.head(1000), bootstrap=10)                   # warm imports, not timed
    studio, studio_s = timed(leaderboard, votes, bootstrap=args.rounds, seed=args.seed)
    studio = studio.set_index("contender")
    (reference, draws, reference_rounds), reference_s = timed(arena_leaderboard, votes, args.rounds, args.seed,
                                                              args.workers)
    reference = reference.loc[studio.index]
    same_resamples = studio_on_the_same_resamples(votes, draws)

    def spearman(ratings: pd.Series) -> float:
        return spearmanr(ratings, truth.loc[ratings.index]).statistic

    rows = [
        ("wall time (s)", f"{studio_s:.2f}", f"{reference_s:.2f}"),
        ("speed-up", f"{reference_s / studio_s:.1f}x", "1.0x"),
        ("Spearman with true strengths", f"{spearman(studio.rating):.4f}", f"{spearman(reference.rating):.4f}"),
        ("mean 95% interval width (points)", f"{(studio.ci_high - studio.ci_low).mean():.2f}",
         f"{(reference.ci_high - reference.ci_low).mean():.2f}"),
    ]
    print(f"\n{'':34}{'studio':>14}{'reference':>14}")
    for name, ours, theirs in rows:
        print(f"{name:34}{ours:>14}{theirs:>14}")
    print("\nlargest difference, studio vs reference (rating points):")
    print(f"  rating (all votes)                  {np.abs(studio.rating - reference.rating).max():.4f}")
    per_round = np.abs(same_resamples[reference_rounds.columns] - reference_rounds).to_numpy().max()
    print(f"  every round, on the same resamples  {per_round:.4f}")
    for column in ("ci_low", "ci_high"):
        print(f"  {column:8} (own resamples: noise)     {np.abs(studio[column] - reference[column]).max():.4f}")
    same = list(studio.rating.sort_values(ascending=False).index) == list(
        reference.rating.sort_values(ascending=False).index)
    print(f"  same ranking: {'yes' if same else 'no'}")

if __name__ == "__main__":
    main()
