"""Head mode with and without standardised features, on held-out train (issue 19, stop 32).

    python bench/reward_gate.py            # first: the SmolLM2 and MiniLM feature caches
    python bench/reward_head_scaling.py    # then this: 12 head trainings from the caches, ~3 min

Each setting trains on the studio's 80% by-prompt split of hh_mix_train and is scored on the
other 20% (dev is never read), once as the studio trains now (each feature divided by its
spread over the training outputs, `RewardHead.standardise`) and once as before stop 32 (raw
features: the divisors kept at one).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFS = Path(os.environ.get("STUDIO_PREFS", "/work/shared/data/prefs"))

from bench.reward_gate import WORK  # noqa: E402

SETTINGS = {"linear head (default)": {}, "no length features": {"cheap_features": False, "interaction": "none"},
            "hidden 256": {"head_hidden": 256}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK,
                        help="bench/reward_gate.py's work dir (its embedding caches are read)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    from studio.rewards import heads
    from studio.rewards.data import read_pairs_file, split_by_prompt
    from studio.rewards.gate import correctness
    from studio.rewards.net import build_net, make_spec
    from studio.rewards.train import TrainSettings, train

    full = read_pairs_file(PREFS / "hh_mix_train.jsonl")
    fit, held = split_by_prompt(full, 0.2)
    triples = [(p.left, p.right, p.target) for p in held.pairs]
    standardise = heads.RewardHead.standardise
    print(f"{len(fit.pairs)} train pairs, scored on {len(held.pairs)} held-out train pairs")
    print(f"{'backbone':18s} {'setting':24s} {'raw (before)':>13s} {'standardised':>13s}")
    for backbone in ("all-minilm-l6-v2", "smollm2-135m"):
        for name, choice in SETTINGS.items():
            scores = []
            for scaled in (False, True):
                heads.RewardHead.standardise = standardise if scaled else (lambda self, spread: None)
                net = build_net(make_spec(backbone, max_length=256, **choice))
                out = train(net, fit, held, TrainSettings(seed=0), cache_root=args.work / "embeddings")
                right = correctness([float(x) for x in out.heldout_rewards], triples)
                scores.append(sum(right) / len(right))
            heads.RewardHead.standardise = standardise
            print(f"{backbone:18s} {name:24s} {scores[0]:13.1%} {scores[1]:13.1%}", flush=True)


if __name__ == "__main__":
    main()
