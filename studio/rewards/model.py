"""`RewardModel`: a trained reward model, ready to score.

    model = studio.reward_model()                  # the active version
    model.score("Write a haiku.", "Rain on the roof...")
    model.score_batch(prompts, responses)
    image_model.score_images("a red bicycle", ["a.png", "b.png"])

Text models are any transformers encoder (mean-pooled, with a scalar head), any one-label
sequence classifier, or a decoder (scored at its last real token); image models are a
CLIP-style model with a head over the image and prompt embeddings. `load(path)` rebuilds one
from its checkpoint alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.rewards.checkpoint import CheckpointInfo, load_net
from studio.rewards.data import Item, content_key, text_digest


class RewardModel:
    def __init__(self, net, info: CheckpointInfo | None = None, *, version: int | None = None,
                 cache=None, active: bool = False):
        self.net = net
        self.info = info
        self.spec = net.spec
        self.version = version
        self.active = active
        self.cache = cache            # head mode: the frozen-backbone embedding cache, if any

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.info.metrics) if self.info else {}

    def score(self, prompt: str, response: str, *, spread: bool = False):
        """The reward of one response to a prompt (higher is better); with `spread=True`,
        (reward, spread): the ensemble's standard deviation (None without an ensemble:
        train with ensemble=5 in head mode)."""
        if spread:
            return self.score_batch([prompt], [response], spread=True)[0]
        return self.score_batch([prompt], [response])[0]

    def score_batch(self, prompts: Sequence[str], responses: Sequence[str], *, spread: bool = False) -> list:
        """Rewards of responses, one per prompt; `spread=True`: (reward, spread) pairs."""
        if self.kind != "text":
            raise InputError(f"reward model v{self.version} scores images: use score_images(prompt, images)")
        if len(prompts) != len(responses):
            raise InputError(f"score_batch needs as many prompts as responses ({len(prompts)} != {len(responses)})")
        items = [Item(key=content_key(p, text_digest(r)), prompt=p, text=r)
                 for p, r in zip(prompts, responses, strict=True)]
        if spread:
            return self.score_items_with_spread(items)
        return self.score_items(items)

    def score_items_with_spread(self, items: Sequence[Item]) -> list[tuple[float, float | None]]:
        from studio.rewards.common import score_with_spread

        rewards, spread = score_with_spread(self.net, list(items), self.cache)
        return [(float(r), None if spread is None else float(s))
                for r, s in zip(rewards, spread if spread is not None else [None] * len(rewards), strict=True)]

    def score_images(self, prompt: str, images: Sequence[Any]) -> list[float]:
        """Rewards of images (paths or PIL images) for one prompt."""
        if self.kind != "image":
            raise InputError(f"reward model v{self.version} scores text: use score(prompt, response)")
        items = []
        for n, image in enumerate(images):
            if isinstance(image, str | os.PathLike):
                path = Path(image)
                if not path.is_file():
                    raise InputError(f"no image file at {path}")
                key = content_key(prompt, _file_digest(path))
                items.append(Item(key=key, prompt=prompt, image=str(path)))
            else:
                items.append(Item(key=f"unkeyed-{n}", prompt=prompt, image=image))
        cacheable = all(isinstance(i, str | os.PathLike) for i in images)
        return self.score_items(items, use_cache=cacheable)

    def score_items(self, items: Sequence[Item], *, use_cache: bool = True) -> list[float]:
        """Rewards of prepared items; head mode reuses cached embeddings of stored outputs."""
        from studio.rewards.common import score_items

        if not items:
            return []
        cache = self.cache if use_cache else None
        return [float(x) for x in score_items(self.net, list(items), cache)]

    def prob_first_wins(self, first: Item, second: Item) -> float:
        """Bradley-Terry probability that `first` is preferred to `second`."""
        return self.prob_first_wins_with_spread(first, second)[0]

    def prob_first_wins_with_spread(self, first: Item, second: Item) -> tuple[float, float | None]:
        """(P(first wins), the standard deviation of that probability over the ensemble's
        members, or None without an ensemble)."""
        import math

        if (self.spec.ensemble or 0) < 2:
            a, b = self.score_items([first, second])
            return 1.0 / (1.0 + math.exp(-(a - b))), None
        import torch

        from studio.rewards.common import head_features

        with torch.inference_mode():
            each = self.net.head.each(head_features(self.net, [first, second], self.cache)).cpu()
        mean = each.mean(dim=0)
        return float(torch.sigmoid(mean[0] - mean[1])), float(torch.sigmoid(each[:, 0] - each[:, 1]).std())

    def describe(self) -> dict[str, Any]:
        metrics = self.metrics
        return {"version": self.version, "kind": self.kind, "mode": self.spec.mode,
                "backbone": self.spec.backbone, "architecture": self.spec.architecture,
                "max_length": self.spec.max_length, "active": self.active,
                "heldout_accuracy": metrics.get("heldout_accuracy"),
                "heldout_pairs": metrics.get("heldout_pairs"),
                "train_pairs": metrics.get("train_pairs")}

    def __repr__(self) -> str:
        d = self.describe()
        return (f"RewardModel(version={d['version']}, kind={d['kind']!r}, mode={d['mode']!r}, "
                f"backbone={d['backbone']!r}, heldout_accuracy={d['heldout_accuracy']})")

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(_fmt(v))}</td></tr>"
                       for k, v in self.describe().items())
        return f"<b>Reward model v{escape(str(self.version))}</b><table>{rows}</table>"


def load(path: str | os.PathLike[str], *, version: int | None = None, cache_root: Path | None = None,
         active: bool = False) -> RewardModel:
    """Load a checkpoint directory (no database needed)."""
    from studio.rewards.common import embedding_cache

    net, info = load_net(path)
    cache = embedding_cache(cache_root, net) if net.spec.mode == "head" else None
    return RewardModel(net, info, version=version, cache=cache, active=active)


def _file_digest(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)
