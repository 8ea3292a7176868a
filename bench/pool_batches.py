"""How long one pool batch takes: both demo contenders (SmolLM2, the demo's 96-token cap) on
1, 2, 4 and 8 starter prompts, against a rater who votes every 10 s.

    python bench/pool_batches.py            # 3 runs per size; the converted model cached first

The first batches into an empty pool (`studio.services.pool.chunks`) are sized from this: a
batch of n pairs must be ready before a rater has voted on what the pool already holds.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RATER_PACE_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per batch size (default 3)")
    args = parser.parse_args()

    from studio.config import default_cache_dir
    from studio.generation.base import Request
    from studio.generation.builtin import demo_contenders
    from studio.generation.text import load_text
    from studio.ui.starter_prompts import starter_prompts

    cache = default_cache_dir(dict(os.environ))          # where `studio demo` keeps the converted model
    generators = [load_text(spec, cache) for spec in demo_contenders()]
    prompts = [p["prompt"] for p in starter_prompts()]
    rng = random.Random(0)
    generators[0].generate([Request(prompt="Hello", seed=0)], batch_size=8)      # warm
    print(f"{'pairs':>5} {'mean s':>7} {'min s':>6} {'max s':>6} {'s/pair':>7}   rater needs a pair every {RATER_PACE_S:.0f} s")
    for size in (1, 2, 4, 8):
        times = []
        for run in range(args.runs):
            chosen = rng.sample(prompts, size)
            started = time.perf_counter()
            for generator in generators:
                generator.generate([Request(prompt=p, seed=run) for p in chosen], batch_size=8)
            times.append(time.perf_counter() - started)
        mean = statistics.mean(times)
        print(f"{size:>5} {mean:>7.1f} {min(times):>6.1f} {max(times):>6.1f} {mean / size:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
