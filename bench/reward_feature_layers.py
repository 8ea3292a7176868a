"""Which of a frozen SmolLM2's token states tell the preferred answer best (issue 19).

    python bench/reward_feature_layers.py               # 1,500 random hh_mix_train pairs, ~8 min on 2 cores
    python bench/reward_feature_layers.py --pairs 200

The pilot behind head mode's decoder pooling (`net.decoder_head_pooling`): SmolLM2 embeds
both answers of each pair (prompt and answer, up to 256 tokens, bfloat16 autocast where the
CPU multiplies it natively), and the states of several layers are pooled two ways, the last
token and the mean over the tokens. Each pooling is scored by 5-fold cross-validation by
prompt (scikit-learn's logistic regression on the pair difference, L2-normalised vectors,
no intercept), alone and beside the studio's cheap features (length, shape); the best of
four regularisation strengths is printed. Uses training data only: dev is never read.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PREFS = Path(os.environ.get("STUDIO_PREFS", "/work/shared/data/prefs"))
LAST_TOKEN_LAYERS = (6, 10, 14, 18, 22, 26, 30)
MEAN_LAYERS = (14, 22, 30)


def embed(pairs, data, *, progress=True):
    """{pooling name: [2 * pairs, hidden] array}, rows (left, right) per pair."""
    import numpy as np
    import torch

    from studio.rewards.encoding import collate, length_chunks
    from studio.rewards.net import build_net, embedding_precision, make_spec

    net = build_net(make_spec("smollm2-135m", mode="head", max_length=256))
    items = [data.items[i] for p in pairs for i in (p.left, p.right)]
    encoded = net.prepare(items).tokens["pair"]
    out = {f"last token, layer {n}": np.zeros((len(items), net.embedding_dim()), np.float32)
           for n in LAST_TOKEN_LAYERS}
    out.update({f"mean, layer {n}": np.zeros((len(items), net.embedding_dim()), np.float32) for n in MEAN_LAYERS})
    bf16 = embedding_precision(torch.device("cpu")) == "bfloat16"
    started, done = time.monotonic(), 0
    for chunk in length_chunks([len(e.input_ids) for e in encoded], 4096):
        batch = collate([encoded[i] for i in chunk], net.tokenizer.pad_token_id)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            states = net.backbone(**batch, output_hidden_states=True).hidden_states
        mask = batch["attention_mask"]
        last, rows = mask.sum(dim=1) - 1, torch.arange(len(chunk))
        weights = mask.unsqueeze(-1).float()
        for n in LAST_TOKEN_LAYERS:
            out[f"last token, layer {n}"][chunk] = states[n][rows, last].float().numpy()
        for n in MEAN_LAYERS:
            out[f"mean, layer {n}"][chunk] = ((states[n].float() * weights).sum(1) / weights.sum(1)).numpy()
        done += len(chunk)
        if progress:
            print(f"\r  embedded {done}/{len(items)} ({done / (time.monotonic() - started):.1f}/s)", end="", flush=True)
    if progress:
        print(f"\r  embedded {len(items)} texts in {time.monotonic() - started:.0f} s" + " " * 20)
    return out


def cross_validated(features, targets, groups, flip) -> float:
    """Best-of-four-C accuracy of a logistic regression on (left - right), 5 folds by prompt."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    diff = features[0::2] - features[1::2]
    diff = np.where(flip[:, None], -diff, diff)
    y = np.where(flip, 1 - targets, targets)
    best = 0.0
    for c in (0.01, 0.1, 1.0, 10.0):
        right = 0
        for fit, held in GroupKFold(5).split(diff, y, groups):
            model = LogisticRegression(C=c, fit_intercept=False, max_iter=2000).fit(diff[fit], y[fit])
            right += int((model.predict(diff[held]) == y[held]).sum())
        best = max(best, right / len(y))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import numpy as np
    import torch

    torch.set_num_threads(2)
    from studio.rewards.data import read_pairs_file
    from studio.rewards.features import response_features

    data = read_pairs_file(PREFS / "hh_mix_train.jsonl")
    decisive = [p for p in data.pairs if p.target != 0.5]
    pairs = random.Random(args.seed).sample(decisive, min(args.pairs, len(decisive)))
    print(f"{len(pairs)} hh_mix_train pairs on {len({p.prompt for p in pairs})} prompts")
    vectors = embed(pairs, data)
    items = [data.items[i] for p in pairs for i in (p.left, p.right)]
    cheap = np.array([response_features(i.prompt, i.text or "") for i in items], np.float32)
    targets = np.array([p.target for p in pairs])
    prompts = sorted({p.prompt for p in pairs})
    groups = np.array([prompts.index(p.prompt) for p in pairs])
    flip = np.random.default_rng(args.seed).random(len(pairs)) < 0.5

    def normalised(v):
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    print(f"{'pooling':26s} {'alone':>7s} {'with cheap features':>20s}")
    print(f"{'(cheap features only)':26s} {'':>7s} {cross_validated(cheap, targets, groups, flip):20.1%}")
    for name, v in vectors.items():
        alone = cross_validated(normalised(v), targets, groups, flip)
        both = cross_validated(np.hstack([normalised(v), cheap]), targets, groups, flip)
        print(f"{name:26s} {alone:7.1%} {both:20.1%}", flush=True)


if __name__ == "__main__":
    main()
