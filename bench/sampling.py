"""Active pair selection and rater checks through the studio itself (issue 18, integration).

    python bench/sampling.py            # 3 seeds, 10 and 30 contenders, spreads 1 and 3, target 100
    python bench/sampling.py --quick    # 2 seeds, 10 contenders, spread 3, target 100; a small crowd
    python bench/sampling.py --part sampling --seeds 20 --targets 150,100,70 --jobs 2   # the grid

Unlike bench/sampling_sim.py (the pure math), every vote here goes the way a rater's does:
the pool (`PoolService.refill`, asking `PairChooser` which pairs to make) fills items with
outputs of simulated contenders (they answer at once, no model runs), a simulated rater
takes `Studio.next_item` and clicks through `Studio.vote_and_next` (the arena's path), and
the studio's own counted votes are read back after each batch.

1. Votes until the mean 95% interval width of the ratings (`sampling.interval_widths` at
   the strengths fitted to the stored votes, rating points) falls below each target, with
   `[pool] sampling = "uniform"` against "active" (defaults: active from 50 votes, 10%
   uniform floor). Contenders have Bradley-Terry strengths drawn N(0, spread); the rater
   follows them. Batches of max(contenders, 2% of the votes so far) items: what the pool
   keeps ready.
2. A crowd: 200 raters x 50 votes (10% random clickers, 5% who always press left, the rest
   honest with their own sharpness, 10% ties), 10 contenders. `Studio.raters()` flags; the
   flagged raters are excluded with `Studio.exclude_rater`; the leaderboard's Spearman
   correlation with the true strengths and its mean error, before and after.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from studio.api import Studio  # noqa: E402
from studio.config import PoolConfig  # noqa: E402
from studio.contender_spec import ContenderSpec  # noqa: E402
from studio.generation.base import Output  # noqa: E402
from studio.ranking.bradley_terry import RATING_SCALE  # noqa: E402
from studio.ranking.sampling import interval_widths, pair_tallies, strengths  # noqa: E402


class Simulated:
    """A contender that answers at once (no model): its name and the seed."""

    kind = "text"

    def __init__(self, name: str):
        self.spec = ContenderSpec(name=name, model="simulated", backend="external")

    def generate(self, requests, *, batch_size=8, should_stop=None, on_progress=None):
        return [Output(request=r, text=f"{self.spec.name} answers with seed {r.seed}") for r in requests]


def simulated_studio(folder: Path, names: list[str], *, sampling: str, prompts: int = 40) -> Studio:
    studio = Studio.open(folder, sqlite_synchronous="NORMAL",
                         pool=PoolConfig(min_ready=8, batch_size=64, sampling=sampling))
    for name in names:
        studio.add_contender({"name": name, "backend": "external", "model": ""})
    studio.add_prompts([f"Question {i}" for i in range(prompts)])
    generators = {studio.contender(name).id: Simulated(name) for name in names}
    studio.generators.for_pool = lambda: (generators, {})      # the pool's models: the simulated ones
    return studio


def rate(studio: Studio, rater: str, count: int, choose) -> int:
    """`count` votes by one rater through next_item and vote_and_next; `choose(view)` is the
    outcome. Returns the votes cast (fewer when the pool ran dry)."""
    cast = 0
    item = studio.next_item(rater)
    while item is not None and cast < count:
        outcome = choose(item)
        _, item = studio.vote_and_next(item.item_id, outcome=outcome, rater=rater,
                                       idempotency_key=f"{rater}:{item.item_id}")
        cast += 1
    return cast


def mean_width(studio: Studio, names: list[str]) -> float:
    wins, counts = pair_tallies(studio.ranking_votes(), names)
    return float(interval_widths(strengths(wins, counts), counts).mean())


def collect(contenders: int, spread: float, sampling: str, targets: list[float], seed: int, *,
            budget: int) -> dict[float, int | None]:
    rng = np.random.default_rng(seed)
    truth = np.random.default_rng(1000 + seed).normal(0.0, spread, contenders)
    names = [f"model-{i:02d}" for i in range(contenders)]
    strength = dict(zip(names, truth, strict=True))

    def choose(item) -> str:
        left, right = (side.contender for side in item.sides)
        return "left" if rng.random() < 1 / (1 + np.exp(strength[right] - strength[left])) else "right"

    needed: dict[float, int | None] = dict.fromkeys(targets)
    with tempfile.TemporaryDirectory() as folder, simulated_studio(Path(folder), names, sampling=sampling) as studio:
        votes = 0
        while votes < budget and any(v is None for v in needed.values()):
            size = max(contenders, int(0.02 * votes))
            studio.refill_pool(min_ready=size)
            votes += rate(studio, "rater", size, choose)
            width = mean_width(studio, names)
            for target in targets:
                if needed[target] is None and width < target:
                    needed[target] = votes
    return needed


def _collect_run(run: tuple) -> tuple[tuple, dict[float, int | None]]:
    contenders, spread, sampling, seed, targets, budget = run
    return run[:4], collect(contenders, spread, sampling, targets, seed, budget=budget)


def _runs(args, targets: list[float]) -> dict[tuple, dict[float, int | None]]:
    """Every (contenders, spread, sampler, seed) run, `args.jobs` processes at a time (each
    run its own studio in its own folder)."""
    runs = [(contenders, spread, sampling, seed, targets, args.budget)
            for contenders in (int(c) for c in args.contenders.split(","))
            for spread in (float(s) for s in args.spreads.split(","))
            for seed in range(args.seeds) for sampling in ("uniform", "active")]
    found: dict[tuple, dict[float, int | None]] = {}
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for key, needed in pool.map(_collect_run, runs):
            found[key] = needed
            print(f"  ... run {len(found)}/{len(runs)} {key[0]} contenders, spread {key[1]:g}, {key[2]}, "
                  f"seed {key[3]}: {needed} ({time.perf_counter() - started:.0f} s)", flush=True)
    return found


def _saving_interval(uniform: np.ndarray, active: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """95% interval of 1 - mean(active) / mean(uniform), resampling seeds (a seed's two runs
    share its true strengths, so they are resampled together)."""
    picks = rng.integers(0, len(uniform), (2000, len(uniform)))
    savings = 1 - active[picks].mean(axis=1) / uniform[picks].mean(axis=1)
    return float(np.quantile(savings, 0.025)), float(np.quantile(savings, 0.975))


def sampling_part(args) -> pd.DataFrame:
    targets = [float(t) for t in args.targets.split(",")]
    found = _runs(args, targets)
    rng = np.random.default_rng(0)
    rows = []
    for contenders in (int(c) for c in args.contenders.split(",")):
        for spread in (float(s) for s in args.spreads.split(",")):
            for target in targets:
                needed = {s: np.array([found[(contenders, spread, s, seed)][target] or np.nan
                                       for seed in range(args.seeds)], dtype=float) for s in ("uniform", "active")}
                low, high = _saving_interval(needed["uniform"], needed["active"], rng)
                rows.append({"contenders": contenders, "spread": spread, "target": target,
                             "uniform": needed["uniform"].mean(), "active": needed["active"].mean(),
                             "saving": 1 - needed["active"].mean() / needed["uniform"].mean(),
                             "95% interval": f"[{low:.1%}, {high:.1%}]"})
    table = pd.DataFrame(rows)
    print(f"1. votes through the studio until the mean 95% interval width is below the target "
          f"(mean of {args.seeds} seeds; the saving's interval resamples seeds)")
    print(table.to_string(index=False, formatters={"uniform": "{:.0f}".format, "active": "{:.0f}".format,
                                                   "target": "{:.0f}".format, "saving": "{:.1%}".format}))
    for spread, part in table.groupby("spread"):
        print(f"goal: at least 40% fewer votes, spread {spread:g}: "
              f"{'met' if (part.saving >= 0.40).all() else 'not met'} "
              f"(saving {part.saving.min():.1%} to {part.saving.max():.1%})")
    return table


def crowd_part(args) -> dict:
    rng = np.random.default_rng(args.crowd_seed)
    contenders, raters, each = 10, args.raters, 50
    names = [f"model-{i:02d}" for i in range(contenders)]
    truth = pd.Series(rng.normal(0.0, 1.0, contenders), index=names)
    kinds = np.array(["random"] * round(raters * 0.10) + ["left"] * round(raters * 0.05))
    kinds = np.r_[kinds, ["honest"] * (raters - len(kinds))]
    rng.shuffle(kinds)
    people = {f"rater-{i:03d}": (kind, rng.uniform(0.7, 1.3)) for i, kind in enumerate(kinds)}

    def chooser(kind: str, sharpness: float):
        def choose(item) -> str:
            if kind == "left":
                return "left"
            if kind == "random":
                return "left" if rng.random() < 0.5 else "right"
            if rng.random() < 0.1:
                return "tie"
            left, right = (side.contender for side in item.sides)
            return "left" if rng.random() < 1 / (1 + np.exp(sharpness * (truth[right] - truth[left]))) else "right"
        return choose

    with tempfile.TemporaryDirectory() as folder, \
            simulated_studio(Path(folder), names, sampling="uniform", prompts=200) as studio:
        studio.refill_pool(min_ready=raters * each)
        for person, (kind, sharpness) in people.items():
            cast = rate(studio, person, each, chooser(kind, sharpness))
            while cast < each:           # the pool ran short for this rater: top it up, go on
                studio.refill_pool(min_ready=4 * each)
                cast += rate(studio, person, each - cast, chooser(kind, sharpness))
        table = studio.raters().set_index("rater")
        kind = pd.Series({p: k for p, (k, _) in people.items()}).reindex(table.index)
        flagged = table["flagged"]
        before = studio.leaderboard(bootstrap=0).set_index("contender")
        started = time.perf_counter()
        for person in table.index[flagged]:
            studio.exclude_rater(person, reason="flagged by bench/sampling.py")
        after = studio.leaderboard(bootstrap=0).set_index("contender")
        exclusion_s = time.perf_counter() - started
        true_rating = 1000 + RATING_SCALE * (truth - truth.mean())
        figures = {"bad caught": flagged[kind != "honest"].mean(), "random caught": flagged[kind == "random"].mean(),
                   "left caught": flagged[kind == "left"].mean(), "honest flagged": flagged[kind == "honest"].mean(),
                   "votes": int(table["votes"].sum()), "exclusion_s": exclusion_s}
        for label, board in (("all", before), ("excluded", after)):
            figures[f"spearman {label}"] = spearmanr(board.rating, true_rating[board.index]).statistic
            figures[f"error {label}"] = float(np.abs(board.rating - true_rating[board.index]).mean())
    print(f"\n2. crowd of {raters} raters x {each} votes through the studio, 10 contenders (spread 1)")
    print(f"votes stored {figures['votes']}; bad raters caught {figures['bad caught']:.1%} (random clickers "
          f"{figures['random caught']:.1%}, always left {figures['left caught']:.1%}); honest raters flagged "
          f"{figures['honest flagged']:.1%}")
    met = figures["bad caught"] >= 0.90 and figures["honest flagged"] <= 0.05
    print(f"goal: >= 90% caught, <= 5% honest flagged: {'met' if met else 'not met'}")
    print(f"{'':34}{'all votes':>12}{'flagged excluded':>18}")
    print(f"{'Spearman with true strengths':34}{figures['spearman all']:>12.4f}{figures['spearman excluded']:>18.4f}")
    print(f"{'mean |rating - truth| (points)':34}{figures['error all']:>12.2f}{figures['error excluded']:>18.2f}")
    print(f"(excluding the flagged raters and refitting took {figures['exclusion_s']:.2f} s)")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--spreads", default="1,3", help="standard deviations of the true strengths (log-odds)")
    parser.add_argument("--targets", default="100", help="mean interval widths to reach (rating points), "
                                                          "e.g. 100,70")
    parser.add_argument("--contenders", default="10,30")
    parser.add_argument("--budget", type=int, default=40_000, help="most votes per run")
    parser.add_argument("--raters", type=int, default=200)
    parser.add_argument("--crowd-seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, each in its own process")
    parser.add_argument("--part", choices=("both", "sampling", "crowd"), default="both")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 10 contenders, spread 3, target 100; "
                                                             "a crowd of 60")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.contenders, args.spreads, args.targets, args.raters = 2, "10", "3", "100", 60
    started = time.perf_counter()
    if args.part != "crowd":
        sampling_part(args)
    if args.part != "sampling":
        crowd_part(args)
    print(f"\n({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
