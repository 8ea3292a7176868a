"""Active pair selection and rater checks on simulated votes (pure: no studio involved).

    python bench/sampling_sim.py            # 20 seeds, 10 and 30 contenders, spreads 1 and 3
    python bench/sampling_sim.py --quick    # 3 seeds, spread 1, two targets (a smoke run)

1. Votes needed until the mean 95% interval width of the ratings falls below a target
   (rating points), pairs drawn uniformly against `studio.ranking.sampling`'s active rule
   (default sharpness and floor), and against the Arena's own proportion (sharpness 1).
   Contenders have Bradley-Terry strengths drawn N(0, spread) (spread 1: ratings with a
   standard deviation of 174 points); votes follow those strengths. The sampler's fit and
   probabilities are refreshed after every batch (the contenders' number of votes, or 2%
   of the votes so far). The width is the normal-approximation interval at the fitted
   strengths (`sampling.interval_widths`, which matches the bootstrap leaderboard within
   15% in tests/ranking/test_sampling.py); "true" repeats the count with the widths at the
   true strengths. "best possible" is the saving of the best allocation of votes to pairs,
   computed knowing the true strengths: no sampler can beat it on this measure.
   Goal: at least 40% fewer votes with active sampling.
2. A crowd: honest raters (each following the strengths with their own sharpness, 10%
   ties), 10% random clickers and 5% who always press left, 50 votes each on uniform
   pairs. Flagged by `rater_quality` (its default rules); the Arena's test (Fisher's
   method on per-vote p-values from the other raters on the same pair) beside it. Goal:
   at least 90% of the bad raters caught, at most 5% of the honest ones flagged. Then the
   leaderboard's Spearman correlation with the true strengths and its mean absolute error
   (rating points), with all votes and without the flagged raters'.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._sampling import best_design_saving, collect, crowd  # noqa: E402
from studio.ranking import leaderboard  # noqa: E402
from studio.ranking.anomaly import anomaly_scores  # noqa: E402
from studio.ranking.bradley_terry import RATING_SCALE  # noqa: E402
from studio.ranking.rater_quality import QualityRules, rater_quality  # noqa: E402


def active_against_uniform(contenders: int, spread: float, targets: list[float], seeds: int) -> list[dict]:
    needed = {name: [] for name in ("uniform", "active", "arena")}
    best = []
    for seed in range(seeds):
        truth = np.random.default_rng(1000 + seed).normal(0.0, spread, contenders)
        runs = {"uniform": collect(truth, "uniform", targets, seed=seed, batch=contenders),
                "active": collect(truth, "active", targets, seed=seed, batch=contenders),
                "arena": collect(truth, "active", targets, seed=seed, batch=contenders, sharpness=1.0)}
        for name, run in runs.items():
            needed[name].append(run)
        best.append(best_design_saving(truth))
    rows = []
    for target in targets:
        mean = {name: np.mean([run.votes_needed[target] or np.nan for run in runs])
                for name, runs in needed.items()}
        true = {name: np.mean([run.votes_needed_true[target] or np.nan for run in runs])
                for name, runs in needed.items()}
        rows.append({"contenders": contenders, "spread": spread, "target": target,
                     "uniform": mean["uniform"], "active": mean["active"],
                     "saving": 1 - mean["active"] / mean["uniform"],
                     "arena rule": 1 - mean["arena"] / mean["uniform"],
                     "true saving": 1 - true["active"] / true["uniform"],
                     "best possible": float(np.mean(best))})
    return rows


def crowd_checks(seeds: int, *, contenders: int, raters: int, spread: float, rules: QualityRules) -> dict:
    figures = {key: [] for key in ("random", "left", "bad", "honest", "arena bad", "arena honest",
                                   "spearman all", "spearman kept", "error all", "error kept")}
    for seed in range(seeds):
        simulated = crowd(contenders=contenders, raters=raters, votes_each=50, random_share=0.10, left_share=0.05,
                          spread=spread, seed=seed)
        quality = rater_quality(simulated.votes, rules=rules).set_index("rater")
        kind = simulated.kinds.reindex(quality.index)
        flagged = quality["flagged"]
        figures["random"].append(flagged[kind == "random"].mean())
        figures["left"].append(flagged[kind == "left"].mean())
        figures["bad"].append(flagged[kind != "honest"].mean())
        figures["honest"].append(flagged[kind == "honest"].mean())
        arena = anomaly_scores(simulated.votes, method="arena").set_index("rater").reindex(quality.index)
        arena_flag = (arena["decisive"] >= rules.min_decisive) & (
            (arena["anomaly_p"] < (1 - rules.position_share) * rules.alpha)
            | (arena["position_p"] < rules.position_share * rules.alpha))
        figures["arena bad"].append(arena_flag[kind != "honest"].mean())
        figures["arena honest"].append(arena_flag[kind == "honest"].mean())
        truth = 1000 + RATING_SCALE * simulated.truth
        kept = simulated.votes[~simulated.votes["rater"].isin(quality.index[flagged])]
        for name, votes in (("all", simulated.votes), ("kept", kept)):
            board = leaderboard(votes, bootstrap=0).set_index("contender")
            figures[f"spearman {name}"].append(spearmanr(board.rating, truth[board.index]).statistic)
            figures[f"error {name}"].append(np.abs(board.rating - truth[board.index]).mean())
    return {key: float(np.mean(values)) for key, values in figures.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--spreads", default="1,3", help="standard deviations of the true strengths (log-odds)")
    parser.add_argument("--targets", default="100,70,50", help="mean interval widths to reach (rating points)")
    parser.add_argument("--contenders", default="10,30")
    parser.add_argument("--part", choices=("both", "sampling", "crowd"), default="both")
    parser.add_argument("--alpha", type=float, help="the rater tests' level (default: QualityRules')")
    parser.add_argument("--quick", action="store_true", help="3 seeds, spread 1, targets 100 and 70")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.spreads, args.targets = 3, "1", "100,70"
    spreads = [float(s) for s in args.spreads.split(",")]
    targets = [float(t) for t in args.targets.split(",")]
    started = time.perf_counter()

    if args.part != "crowd":
        sampling_part(args, spreads, targets)
    if args.part != "sampling":
        crowd_part(args.seeds, spreads[0], QualityRules(**({} if args.alpha is None else {"alpha": args.alpha})))
    print(f"\n({time.perf_counter() - started:.0f} s)")


def sampling_part(args, spreads: list[float], targets: list[float]) -> None:
    rows = [row for contenders in (int(c) for c in args.contenders.split(","))
            for spread in spreads for row in active_against_uniform(contenders, spread, targets, args.seeds)]
    table = pd.DataFrame(rows)
    print(f"1. votes until the mean 95% interval width is below the target (mean of {args.seeds} seeds)")
    print(table.to_string(index=False, formatters={
        "uniform": "{:.0f}".format, "active": "{:.0f}".format, "target": "{:.0f}".format,
        **{c: "{:.1%}".format for c in ("saving", "arena rule", "true saving", "best possible")}}))
    for spread, rows in table.groupby("spread"):
        print(f"goal: at least 40% fewer votes with active sampling, spread {spread:g}: "
              f"{'met' if (rows.saving >= 0.40).all() else 'not met'} (saving {rows.saving.min():.1%} to "
              f"{rows.saving.max():.1%}; the best possible allocation saves {rows['best possible'].min():.1%} "
              f"to {rows['best possible'].max():.1%})")


def crowd_part(seeds: int, spread: float, rules: QualityRules) -> None:
    crowd_figures = crowd_checks(seeds, contenders=10, raters=200, spread=spread, rules=rules)
    print(f"\n2. crowd of 200 raters x 50 votes, 10 contenders (spread {spread:g}), {seeds} seeds, "
          f"alpha {rules.alpha:g}")
    print(f"{'':34}{'rater_quality':>15}{'Arena test':>12}")
    print(f"{'bad raters caught':34}{crowd_figures['bad']:>15.1%}{crowd_figures['arena bad']:>12.1%}")
    print(f"{'  random clickers':34}{crowd_figures['random']:>15.1%}")
    print(f"{'  always left':34}{crowd_figures['left']:>15.1%}")
    print(f"{'honest raters flagged':34}{crowd_figures['honest']:>15.1%}{crowd_figures['arena honest']:>12.1%}")
    met = crowd_figures["bad"] >= 0.90 and crowd_figures["honest"] <= 0.05
    print(f"goal: >= 90% caught, <= 5% honest flagged: {'met' if met else 'not met'}")
    print(f"{'':34}{'all votes':>15}{'flagged out':>12}")
    print(f"{'Spearman with true strengths':34}{crowd_figures['spearman all']:>15.4f}{crowd_figures['spearman kept']:>12.4f}")
    print(f"{'mean |rating - truth| (points)':34}{crowd_figures['error all']:>15.2f}{crowd_figures['error kept']:>12.2f}")


if __name__ == "__main__":
    main()
