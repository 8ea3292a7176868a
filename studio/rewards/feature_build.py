"""Filling a head-mode reward model's embedding cache ahead of training.

With a decoder backbone (the built-in smollm2-135m) embedding every output is the long part
of a head-mode training: over an hour for 17,000 outputs on two CPU cores. `fill_cache`
computes the frozen backbone's embeddings of every view the head reads (the same keys and
cache directory `head_features` uses, so a later training or score finds them) and
nothing else. Each chunk is on disk before the next is computed (`EmbeddingCache.fill`),
so a fill that is killed or cancelled resumes where it stopped.

    outcome = fill_cache(build_net(make_spec("smollm2-135m")), items, cache, progress=print)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from studio.rewards.common import ProgressFn, TrainingCancelled, TrainProgress
from studio.rewards.data import Item
from studio.rewards.embeddings import EmbeddingCache
from studio.rewards.net import RewardNet

CHUNK = 32      # outputs per stored chunk: what a kill can lose, and how often progress moves


@dataclass(frozen=True)
class FillOutcome:
    items: int              # outputs asked for
    vectors: int            # vectors they need (one per view and output; prompts shared)
    cached_before: int      # of those, already in the cache
    embedded: int           # computed by this fill
    wall_s: float

    def to_dict(self) -> dict[str, float | int]:
        return {"items": self.items, "vectors": self.vectors, "cached_before": self.cached_before,
                "embedded": self.embedded, "wall_s": round(self.wall_s, 3),
                "per_s": round(self.embedded / self.wall_s, 2) if self.wall_s > 0 else None}


def fill_cache(net: RewardNet, items: Sequence[Item], cache: EmbeddingCache, *,
               progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None,
               chunk: int = CHUNK) -> FillOutcome:
    """Embed the items' views the cache lacks. `progress` gets a `TrainProgress` ("embedding",
    vectors done of those to do, with an ETA) after each chunk; `should_stop()` is asked
    before each chunk and a True ends the fill with `TrainingCancelled` (what was stored
    stays)."""
    if net.spec.mode != "head":
        raise ValueError("only head-mode reward models read cached embeddings")
    started = time.monotonic()
    # Each view's texts shortest first, so a chunk's texts pad to about the same length.
    plan = []
    for view in net._views():
        ordered = sorted(items, key=lambda i, view=view: _text_length(i, view))
        plan.append((view, ordered, net.cache_keys(view, ordered)))
    wanted = sum(len(set(keys)) for _, _, keys in plan)
    to_do = sum(len(cache.missing(keys)) for _, _, keys in plan)
    done = 0

    def stop_if_asked() -> None:
        if should_stop is not None and should_stop():
            raise TrainingCancelled(f"cancelled after embedding {done} of {to_do} vectors (they are kept)")

    for view, ordered, keys in plan:
        def compute(positions, view=view, ordered=ordered):
            stop_if_asked()
            prepared = net.prepare([ordered[p] for p in positions])
            with torch.inference_mode():
                return net.embed(view, prepared, range(len(positions)))

        def report(view_done, _view_total, before=done):
            if progress is not None:
                elapsed = time.monotonic() - started
                now = before + view_done
                eta = elapsed / now * (to_do - now) if now else None
                progress(TrainProgress("embedding", now, to_do, elapsed_s=elapsed, eta_s=eta))

        done += cache.fill(keys, compute, chunk=chunk, progress=report)
    if progress is not None and to_do == 0:
        progress(TrainProgress("embedding", 0, 0, elapsed_s=time.monotonic() - started, eta_s=0.0))
    return FillOutcome(items=len(items), vectors=wanted, cached_before=wanted - to_do, embedded=done,
                       wall_s=time.monotonic() - started)


def _text_length(item: Item, view: str) -> int:
    if view == "prompt":
        return len(item.prompt)
    if view == "response":
        return len(item.text or "")
    return len(item.prompt) + len(item.text or "")
