"""How fast a frozen SmolLM2 embeds for head mode, by pooling (issue 19's feature cache).

    python bench/feature_pooling.py            # 128 hh_mix_train texts at 256 tokens, 2 threads
    python bench/feature_pooling.py --texts 32

Three ways over the same texts, same batches, under the embedding precision the studio uses
here: the last token of the final layer (the pooling before stop 31), the mean of layer 22
taken from a full forward pass (`output_hidden_states`), and the same mean with the pass
stopped after layer 22 (`rewards.early_exit`, what the studio runs). Prints vectors per
second side by side and whether the last two give the same vectors.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=128)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    from studio.rewards.data import read_pairs_file
    from studio.rewards.net import build_net, embedding_precision, make_spec

    data = read_pairs_file(PREFS / "hh_mix_train.jsonl")
    items = data.items[:args.texts]
    spec = make_spec("smollm2-135m", max_length=256)
    ways = [("last token, final layer (before)", spec.replace(pooling="", pool_layer=None), None),
            (f"mean of layer {spec.pool_layer}, full pass", spec, "full"),
            (f"mean of layer {spec.pool_layer}, stopped there (studio)", spec, "early")]
    results = {}
    for name, way_spec, how in ways:
        net = build_net(way_spec)
        prepared = net.prepare(items)
        if how == "full":     # the same states, every block run
            from studio.rewards import net as net_module

            original = net_module.states_after
            net_module.states_after = lambda model, layer, batch: model(
                **batch, output_hidden_states=True).hidden_states[layer]
        try:
            with torch.inference_mode():
                net.embed("pair", net.prepare(items[:4]), range(4))      # warm-up
                started = time.perf_counter()
                vectors = net.embed("pair", prepared, range(len(items)))
                seconds = time.perf_counter() - started
        finally:
            if how == "full":
                net_module.states_after = original
        results[name] = (vectors, seconds)
    print(f"{len(items)} hh_mix_train texts (prompt and answer, up to 256 tokens), "
          f"embedding precision {embedding_precision(torch.device('cpu'))}, 2 threads")
    print(f"{'pooling':48s} {'seconds':>8s} {'vectors/s':>10s}")
    base = None
    for name, (_, seconds) in results.items():
        base = base or seconds
        print(f"{name:48s} {seconds:8.1f} {len(items) / seconds:10.2f}   {base / seconds:.2f}x")
    full, early = (results[ways[1][0]][0], results[ways[2][0]][0])
    print(f"stopped pass against full pass: largest difference {float((full - early).abs().max()):.2e}")


if __name__ == "__main__":
    main()
