"""Style control speed and accuracy: `style_leaderboard` beside the plain `leaderboard`.

    python bench/style_control.py            # 100,000 votes, 50 contenders, 1,000 rounds
    python bench/style_control.py --quick    # 20,000 votes, 200 rounds (a smoke run)

Synthetic votes (10% ties, sides at random) from contenders with known strengths, each
answer with its own length, headers, list items and bold spans; the left side wins with
probability sigmoid(theta_left - theta_right + planted length effect x the scaled length
covariate). One contender writes answers twice as long as the others.

Printed side by side, each timed as the best of --repeat runs, wall clock and CPU time of
this process (the machine may be shared):
- the plain leaderboard (`studio.ranking.leaderboard`, N bootstrap rounds);
- style control (`studio.ranking.style_leaderboard`, N rounds), which also gives the plain
  ratings of the same votes with intervals from its own bootstrap rounds.
Goal: style control within 3x the plain leaderboard's time.

Then: the planted length effect against its estimate and interval, the verbose
contender's raw and controlled rating against its true rating, the largest difference
from an unpenalised scikit-learn logistic regression on the same design (full fit), and,
when ../shared/data/prefs is there, the coefficients on LLMFAO's real crowd votes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._simulated import style_votes as simulated_votes  # noqa: E402
from bench._simulated import unpenalised_fit  # noqa: E402
from studio.ranking import leaderboard  # noqa: E402
from studio.ranking.bradley_terry import RATING_SCALE  # noqa: E402
from studio.ranking.style import STYLE_FEATURES  # noqa: E402
from studio.ranking.style_control import fit_style, style_leaderboard  # noqa: E402
from studio.ranking.style_model import style_votes  # noqa: E402

PREFS = (Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "prefs").resolve()


def best_time(function, repeat: int) -> tuple[object, float, float]:
    """The result, and the best wall and CPU seconds of `repeat` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return result, min(wall), min(cpu)


def sklearn_difference(votes: pd.DataFrame) -> tuple[float, float]:
    """Largest difference of the full fit from scikit-learn's unpenalised logistic
    regression on the same design: ratings (points) and coefficients (log-odds)."""
    sv = style_votes(votes)
    params = fit_style(sv)[0]
    theta, coefficients = unpenalised_fit(sv)
    k = len(sv.contenders)
    return float(np.abs(RATING_SCALE * (theta - params[:k])).max()), float(np.abs(coefficients - params[k:]).max())


def real_votes(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    raw = pd.read_json(path, lines=True)
    return pd.DataFrame({"left_contender": raw.model_a, "right_contender": raw.model_b,
                         "outcome": raw.winner.map({"model_a": "left", "model_b": "right", "tie": "tie"}),
                         "left_text": raw.response_a, "right_text": raw.response_b})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--contenders", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1000, help="bootstrap rounds")
    parser.add_argument("--length-effect", type=float, default=0.3, help="planted log-odds per unit of covariate")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing, the best kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prefs", type=Path, default=PREFS, help="the real preference data folder")
    parser.add_argument("--quick", action="store_true", help="20,000 votes, 200 rounds, 1 run")
    args = parser.parse_args(argv)
    if args.quick:
        args.votes, args.rounds, args.repeat = 20_000, 200, 1

    votes, theta = simulated_votes(args.votes, args.seed, contenders=args.contenders, spread=0.8,
                                   length_effect=args.length_effect, ties=0.10, verbose=0, verbosity=2.0)
    truth = 1000 + RATING_SCALE * theta
    print(f"{len(votes):,} votes ({(votes.outcome == 'tie').mean():.1%} ties), {args.contenders} contenders, "
          f"{args.rounds:,} bootstrap rounds, best of {args.repeat}")
    style_leaderboard(votes.head(2000), bootstrap=10)                 # warm imports, not timed
    plain, plain_s, plain_cpu = best_time(lambda: leaderboard(votes, bootstrap=args.rounds, seed=args.seed),
                                          args.repeat)
    result, style_s, style_cpu = best_time(lambda: style_leaderboard(votes, bootstrap=args.rounds, seed=args.seed),
                                           args.repeat)
    print(f"\n{'':24}{'wall s':>9}{'x plain':>9}{'CPU s':>9}{'x plain':>9}")
    print(f"{'plain leaderboard':24}{plain_s:>9.2f}{1.0:>9.2f}{plain_cpu:>9.2f}{1.0:>9.2f}")
    print(f"{'style control':24}{style_s:>9.2f}{style_s / plain_s:>9.2f}{style_cpu:>9.2f}{style_cpu / plain_cpu:>9.2f}")
    print(f"goal: style control within 3x the plain leaderboard (wall): {'met' if style_s <= 3 * plain_s else 'NOT met'}")
    board = result.board.set_index("contender")
    plain = plain.set_index("contender").reindex(board.index)
    noise = max(np.abs(board.raw_ci_low - plain.ci_low).max(), np.abs(board.raw_ci_high - plain.ci_high).max())
    print(f"raw columns against the plain leaderboard: ratings within {np.abs(board.raw_rating - plain.rating).max():.1e}"
          f" points, interval bounds within {noise:.2f} (resampling noise; mean width "
          f"{(plain.ci_high - plain.ci_low).mean():.2f})")

    length = result.coefficients.set_index("feature").loc["length"]
    print(f"\nplanted length effect {args.length_effect:.3f}: estimated {length.coefficient:.3f} "
          f"[{length.ci_low:.3f}, {length.ci_high:.3f}] (ties dilute it a little: a tie ignores length)")
    verbose = truth.index[0]
    print(f"{verbose} (answers twice as long): true {truth[verbose]:.1f}, raw {board.raw_rating[verbose]:.1f}, "
          f"style-controlled {board.rating[verbose]:.1f} [{board.ci_low[verbose]:.1f}, {board.ci_high[verbose]:.1f}]")
    other = board.drop(index=verbose)
    print(f"mean |rating - truth| over the others: raw {np.abs(other.raw_rating - truth[other.index]).mean():.2f}, "
          f"controlled {np.abs(other.rating - truth[other.index]).mean():.2f} points")
    ratings_diff, coef_diff = sklearn_difference(votes.head(20_000))
    print(f"against scikit-learn (20,000 votes, full fit): ratings within {ratings_diff:.1e} points, "
          f"coefficients within {coef_diff:.1e}")

    llmfao = args.prefs / "elo_llmfao_crowd_votes.jsonl"
    real = real_votes(llmfao)
    if real is None:
        print(f"\n{llmfao} is absent: no real-vote figures")
        return
    started = time.perf_counter()
    on_real = style_leaderboard(real, bootstrap=args.rounds, seed=args.seed)
    print(f"\nLLMFAO crowd votes ({len(real):,}, {real.left_contender.nunique()} models, {args.rounds} rounds, "
          f"counted from the texts: {time.perf_counter() - started:.2f} s), coefficients:")
    print(on_real.coefficients.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    moved = (on_real.board["rank"] - on_real.board["raw_rank"]).abs()
    print(f"ranks moved by style control: mean {moved.mean():.2f}, at most {moved.max()} "
          f"(features: {', '.join(STYLE_FEATURES)})")


if __name__ == "__main__":
    main()
