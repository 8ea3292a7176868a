"""Issue 19: which head-mode setting to ship, chosen without looking at dev.

Every setting trains on 80% of hh_mix_train's prompts and is scored on the other 20%
(the studio's own by-prompt split); the best per backbone is then trained on all of
hh_mix_train and scored once on hh_mix_dev, with its 95% interval (clustered by prompt) and
the activation gate's decision.

    python bench/reward_gate.py          # first: builds the SmolLM2 and MiniLM feature caches
    python bench/reward_head_sweep.py    # then this: every training reads the caches (seconds each)
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFS = Path(os.environ.get("STUDIO_PREFS", "/work/shared/data/prefs"))

from bench.reward_gate import WORK  # noqa: E402

BACKBONES = ("smollm2-135m", "all-minilm-l6-v2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=WORK,
                        help="bench/reward_gate.py's work dir (its embedding cache is read)")
    parser.add_argument("--backbones", default=",".join(BACKBONES),
                        help="comma-separated: which backbones' caches to sweep (default: both)")
    args = parser.parse_args()
    backbones = [b for b in args.backbones.split(",") if b]
    import torch

    torch.set_num_threads(2)
    from studio.rewards.data import read_pairs_file, split_by_prompt
    from studio.rewards.gate import correctness, decide
    from studio.rewards.net import build_net, make_spec
    from studio.rewards.train import TrainSettings, train

    cache = args.work / "embeddings"
    full = read_pairs_file(PREFS / "hh_mix_train.jsonl")
    dev = read_pairs_file(PREFS / "hh_mix_dev.jsonl")
    fit, val = split_by_prompt(full, 0.2)
    print(f"choosing on {len(fit.pairs)} train pairs against {len(val.pairs)} held-out train pairs; "
          f"then all {len(full.pairs)} against dev ({len(dev.pairs)})", flush=True)

    def scored(out, data) -> list[float]:
        return correctness([float(x) for x in out.heldout_rewards], [(p.left, p.right, p.target) for p in data.pairs])

    def fit_one(setting, train_data, heldout):
        backbone, l2, hidden, interaction, cheap = setting
        net = build_net(make_spec(backbone, max_length=256, head_hidden=hidden, interaction=interaction,
                                  cheap_features=cheap))
        return train(net, train_data, heldout, TrainSettings(seed=0, head_l2=l2), cache_root=cache)

    results = {}
    for setting in itertools.product(backbones, (1e-4, 1e-2, 1e-1), (0, 256), ("prompt_length", "none"),
                                     (True, False)):
        if setting[4] is False and setting[3] == "prompt_length":
            continue        # the crossing reads the length feature
        started = time.monotonic()
        values = scored(fit_one(setting, fit, val), val)
        results[setting] = sum(values) / len(values)
        print(f"{setting[0]:18s} l2 {setting[1]:<7g} hidden {setting[2]:<4d} {setting[3]:14s} "
              f"length features {'yes' if setting[4] else 'no ':3s}  held-out train {results[setting]:.1%}"
              f"  ({time.monotonic() - started:.0f} s)", flush=True)

    triples = [(p.left, p.right, p.target) for p in dev.pairs]
    lengths = correctness([len(i.text or "") for i in dev.items], triples)
    prompts = [p.prompt for p in dev.pairs if p.target != 0.5]
    a = decide(lengths, lengths, prompts).accuracy
    print(f"\nlength rule on dev: {a.mean:.1%} [{a.low:.1%}, {a.high:.1%}]")
    for backbone in backbones:
        best = max((s for s in results if s[0] == backbone), key=results.get)
        decision = decide(scored(fit_one(best, full, dev), dev), lengths, prompts)
        a = decision.accuracy
        print(f"chosen for {backbone}: l2 {best[1]:g}, hidden {best[2]}, {best[3]}, length features "
              f"{'yes' if best[4] else 'no'} (held-out train {results[best]:.1%}) -> dev {a.mean:.1%} "
              f"[{a.low:.1%}, {a.high:.1%}]: {'activated' if decision.passed else 'not activated: ' + decision.reason}",
              flush=True)


if __name__ == "__main__":
    main()
