"""Issue 19: reward models on hh_mix_train against hh_mix_dev, each with its 95% interval
(clustered by prompt) and the activation gate's decision, in one run.

    python bench/reward_gate.py --quick     # 300 train pairs, 300 dev pairs, max length 128
    python bench/reward_gate.py             # every train pair, every dev pair, max length 256

Settings: the length rule; MiniLM-L6 in head mode (with and without length features, and a
5-head ensemble); SmolLM2-135M in head mode (the mean of layer 22's token states). TRL's RewardTrainer and
full mode are in bench/reward_model.py (same data and sizes); the SmolLM2 full/LoRA run needs
a GPU or hours. Data are read in place from /work/shared/data/prefs (never copied). The work
dir is a studio data dir whose embedding cache is kept between runs: the SmolLM2 features are
built first by the studio's own feature build (`Studio.build_features`, what
`studio features build --pairs ...` runs), timed apart and printed, then read by the training.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFS = Path(os.environ.get("STUDIO_PREFS", "/work/shared/data/prefs"))
# Its work dir, whose embedding caches the head sweep, scaling and backbone-pair benches read.
WORK = Path(tempfile.gettempdir()) / "studio-bench-reward-gate"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--skip-smollm2", action="store_true")
    parser.add_argument("--skip-minilm", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    from studio.rewards.data import read_pairs_file
    from studio.rewards.gate import correctness, decide
    from studio.rewards.net import build_net, make_spec
    from studio.rewards.train import TrainSettings, train

    train_data = read_pairs_file(PREFS / "hh_mix_train.jsonl")
    dev = read_pairs_file(PREFS / "hh_mix_dev.jsonl")
    max_length = 128 if args.quick else 256
    if args.quick:
        train_data, dev = train_data.head(300), dev.head(300)
    triples = [(p.left, p.right, p.target) for p in dev.pairs]
    prompts = [p.prompt for p in dev.pairs if p.target != 0.5]
    lengths = correctness([len(i.text or "") for i in dev.items], triples)
    print(f"train {len(train_data.pairs)} pairs, dev {len(dev.pairs)} pairs on {len(set(prompts))} prompts, "
          f"max length {max_length}")
    rows = [("length rule", lengths, 0.0)]
    settings = [] if args.skip_minilm else [
        ("minilm-l6 head", "all-minilm-l6-v2", {}),
        ("minilm-l6 head, no length features", "all-minilm-l6-v2", {"cheap_features": False, "interaction": "none"}),
        ("minilm-l6 head, 5-head ensemble", "all-minilm-l6-v2", {"ensemble": 5})]
    if not args.skip_smollm2:
        settings.append(("smollm2-135m head", "smollm2-135m", {}))
        _build_features(args.work, "smollm2-135m", max_length, train_data, dev)
    for name, backbone, choices in settings:
        net = build_net(make_spec(backbone, max_length=max_length, **choices))
        started = time.monotonic()
        out = train(net, train_data, dev, TrainSettings(seed=0), cache_root=args.work / "embeddings")
        rows.append((name, correctness([float(x) for x in out.heldout_rewards], triples),
                     time.monotonic() - started, out.metrics.get("embed_s")))
    print(f"{'setting':40s} {'dev accuracy [95% CI]':>26s}  gate decision")
    for row in rows:
        name, values = row[0], row[1]
        decision = decide(values, lengths, prompts)
        a = decision.accuracy
        timing = f"  ({row[2]:.0f} s, embedding {row[3]:.0f} s)" if len(row) > 3 else ""
        print(f"{name:40s} {a.mean:8.1%} [{a.low:.1%}, {a.high:.1%}]  "
              f"{'activated' if decision.passed else 'not activated: ' + decision.reason}{timing}")


def _build_features(work: Path, backbone: str, max_length: int, train_data, dev) -> None:
    """The backbone's cache for every train and dev text, built (or resumed) before the timed part."""
    import json

    from studio.api import Studio

    files = []
    for name, data in (("train", train_data), ("dev", dev)):
        path = work / f"{name}-{len(data.pairs)}.jsonl"
        if not path.exists():
            work.mkdir(parents=True, exist_ok=True)
            rows = [{"prompt": data.items[p.left].prompt, "chosen": data.items[p.left].text,
                     "rejected": data.items[p.right].text} for p in data.pairs]
            path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        files.append(path)
    with Studio.open(work, queue_url="immediate") as studio:
        built = studio.build_features(backbone, pairs_files=files, max_length=max_length, progress=None)
    print(f"{backbone} features: {built['vectors']} vectors for {built['items']} texts, {built['embedded']} embedded "
          f"now in {built['wall_s']:.0f} s ({built['per_s'] or 0:.1f}/s), {built['cached_before']} were cached",
          flush=True)


if __name__ == "__main__":
    main()
