"""Do two frozen backbones tell the preferred answer better together than apart? (issue 19)

    python bench/reward_gate.py --skip-minilm        # first: the SmolLM2 feature cache (about an hour)
    python bench/reward_backbone_pair.py             # then this: embeds with MiniLM-L6 (cached), fits

A pilot, on training data only (dev is never read): the studio's head-mode features of every
hh_mix_train answer (`common.head_features`, through the same embedding caches as training:
SmolLM2-135M's mean of layer 22, MiniLM-L6's pooled views, each with the cheap features),
and scikit-learn's logistic regression on the pair difference, fitted on the studio's own
80% by-prompt split and scored on the other 20% (the split the head sweep chooses on). The
best of four regularisation strengths is printed per feature set, with its 95% interval
clustered by prompt, so a concatenated head is worth building only if it clearly beats
each backbone alone.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFS = Path(os.environ.get("STUDIO_PREFS", "/work/shared/data/prefs"))

from bench.reward_gate import WORK  # noqa: E402


def features(backbone: str, data, cache_root: Path):
    """[items, features] array of the studio's head-mode input for this backbone."""
    from studio.rewards.common import embedding_cache, head_features
    from studio.rewards.net import build_net, make_spec

    net = build_net(make_spec(backbone, max_length=256))
    started = time.monotonic()

    def progress(p):
        print(f"\r  {backbone}: {p.phase} {p.step}/{p.total_steps} ({p.elapsed_s:.0f} s)", end="", flush=True)

    matrix = head_features(net, data.items, embedding_cache(cache_root, net), progress).float().numpy()
    print(f"\r  {backbone}: {matrix.shape[1]} features of {len(data.items)} answers in "
          f"{time.monotonic() - started:.0f} s" + " " * 30, flush=True)
    return matrix


def pair_rows(matrix, pairs, flip):
    """(left - right, target), each pair's sides swapped where `flip` says (so that the
    classes balance), and the pairs' prompts."""
    import numpy as np

    diff = np.stack([matrix[p.left] - matrix[p.right] for p in pairs])
    y = np.array([p.target for p in pairs])
    return np.where(flip[:, None], -diff, diff), np.where(flip, 1 - y, y), [p.prompt for p in pairs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK,
                        help="bench/reward_gate.py's work dir (its embedding caches are read and extended)")
    args = parser.parse_args()
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    torch.set_num_threads(2)
    from studio.rewards.data import heldout_prompts, read_pairs_file
    from studio.rewards.gate import cluster_interval

    full = read_pairs_file(PREFS / "hh_mix_train.jsonl")
    held_prompts = heldout_prompts(full.prompts(), 0.2)
    decisive = [p for p in full.pairs if p.target != 0.5]
    parts = {"fit": [p for p in decisive if p.prompt not in held_prompts],
             "held": [p for p in decisive if p.prompt in held_prompts]}
    print(f"fitting on {len(parts['fit'])} decisive hh_mix_train pairs, scoring on {len(parts['held'])} "
          f"held-out train pairs (the studio's by-prompt split)")
    cache = args.work / "embeddings"
    smol, mini = features("smollm2-135m", full, cache), features("all-minilm-l6-v2", full, cache)
    sets = {"SmolLM2-135M (mean of layer 22) + cheap": smol, "MiniLM-L6 + cheap": mini,
            "both backbones + cheap": np.hstack([smol, mini])}
    rng = np.random.default_rng(0)
    flips = {part: rng.random(len(pairs)) < 0.5 for part, pairs in parts.items()}
    print(f"\n{'features':44s} {'held-out train':>15s} {'95% interval':>16s} {'C':>6s}")
    for name, matrix in sets.items():
        rows = {part: pair_rows(matrix, pairs, flips[part]) for part, pairs in parts.items()}
        scaler = StandardScaler(with_mean=False).fit(rows["fit"][0])
        best = None
        for c in (0.001, 0.01, 0.1, 1.0):
            model = LogisticRegression(C=c, fit_intercept=False, max_iter=5000)
            model.fit(scaler.transform(rows["fit"][0]), rows["fit"][1])
            right = (model.predict(scaler.transform(rows["held"][0])) == rows["held"][1]).astype(float)
            if best is None or right.mean() > best[0].mean():
                best = (right, c)
        right, c = best
        interval = cluster_interval(list(right), rows["held"][2])
        print(f"{name:44s} {interval.mean:15.1%} {f'[{interval.low:.1%}, {interval.high:.1%}]':>16s} {c:6g}",
              flush=True)
    print("(C is chosen on the held-out pairs themselves, the same way for every row: compare rows, "
          "not the figures with dev)")


if __name__ == "__main__":
    main()
