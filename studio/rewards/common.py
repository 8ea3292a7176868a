"""What both reward-model trainers (head_trainer, full_trainer) share: progress and outcome
types, held-out accuracy, the embedding cache and head features, scoring, and sharding
steps over processes."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from studio.errors import StudioError
from studio.rewards.data import Batch, PreferenceData
from studio.rewards.embeddings import EmbeddingCache, namespace
from studio.rewards.loss import bt_loss
from studio.rewards.net import RewardNet, embedding_precision


class TrainingCancelled(StudioError):
    """The job was cancelled; nothing was saved."""


def fresh_accelerator(mixed_precision: str = "no", **kwargs):
    """An Accelerator in the precision asked for. Accelerate keeps one state per process, so a
    Trainer earlier in this worker (a DPO job) or a bfloat16 fine-tune would otherwise leave
    its autocast on every later Accelerator. Starts afresh as transformers' TrainingArguments
    does; the distributed state (`accelerate launch`) is kept."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state()
    return Accelerator(mixed_precision=mixed_precision, **kwargs)


def unwrapped(accelerator, model: torch.nn.Module) -> torch.nn.Module:
    """The trained module without its distributed wrapper or its autocast: it scores in
    float32, as its checkpoint does when loaded again."""
    return accelerator.unwrap_model(model, keep_fp32_wrapper=False)


@dataclass(frozen=True)
class TrainProgress:
    phase: str                       # embedding | training | evaluating
    step: int
    total_steps: int
    loss: float | None = None
    elapsed_s: float = 0.0
    eta_s: float | None = None
    pairs: int = 0                   # pairs trained on so far (training phase)


@dataclass
class TrainOutcome:
    net: RewardNet
    metrics: dict = field(default_factory=dict)
    heldout_rewards: torch.Tensor | None = None     # one per held-out item


ProgressFn = Callable[[TrainProgress], None]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def pair_correctness(rewards: torch.Tensor, data: PreferenceData) -> list[float]:
    """For each decisive pair: 1 when the model ranks it as the human did, 0 when not,
    0.5 when it scores both sides the same."""
    out = []
    for p in data.pairs:
        if p.target != 0.5:
            diff = float(rewards[p.left] - rewards[p.right])
            out.append(0.5 if diff == 0 else float((diff > 0) == (p.target > 0.5)))
    return out


def accuracy(rewards: torch.Tensor, data: PreferenceData) -> dict:
    """Agreement with decisive votes (a score tie counts half) and the loss on all pairs."""
    if not data.pairs:
        return {"heldout_accuracy": None, "heldout_pairs": 0, "heldout_loss": None}
    correct = pair_correctness(rewards, data)
    loss = float(bt_loss(rewards, [(p.left, p.right, p.target) for p in data.pairs]))
    return {"heldout_accuracy": sum(correct) / len(correct) if correct else None,
            "heldout_pairs": len(correct), "heldout_loss": loss}


def embedding_cache(root: Path | None, net: RewardNet) -> EmbeddingCache | None:
    if root is None:
        return None
    from studio.rewards.backbones import revision

    spec = net.spec
    settings = {"revision": revision(spec.backbone), "architecture": spec.architecture,
                "max_length": spec.max_length, "version": 2}
    precision = embedding_precision(net._device())
    if precision != "float32":   # float32 caches keep the names they had before precisions
        settings["precision"] = precision
    if spec.pooling or spec.pool_layer is not None:   # the architecture's own pooling keeps its name
        settings.update(pooling=net.pooling(), pool_layer=spec.pool_layer)
    return EmbeddingCache(Path(root) / namespace(spec.backbone, **settings))


def head_features(net: RewardNet, items, cache: EmbeddingCache | None,
                  progress: ProgressFn | None = None, started: float | None = None) -> torch.Tensor:
    """The head's input for each item, with frozen-backbone embeddings from the cache."""
    started = time.monotonic() if started is None else started
    cache = cache if cache is not None else EmbeddingCache(None)
    views = []
    for view in net._views():
        keys = net.cache_keys(view, items)

        def compute(positions, view=view):
            prepared = net.prepare([items[p] for p in positions])
            with torch.inference_mode():
                return net.embed(view, prepared, range(len(positions)))

        def report(done, total, view=view):
            if progress:
                progress(TrainProgress(f"embedding {view}", done, total, elapsed_s=time.monotonic() - started))

        views.append(cache.get_or_compute(keys, compute, progress=report))
    cheap = net.cheap(items)
    return net.combine(views, cheap)


def no_pairs(data: PreferenceData) -> None:
    if not data.pairs:
        raise StudioError("no preference pairs to train on: record some decisive votes or ties first")


def shard(batches: list[Batch], world: int, rank: int) -> list[Batch]:
    """This process's share; every process gets the same number of steps. When the batches
    do not divide evenly, the first ones are reused to fill the last round (as PyTorch's
    DistributedSampler pads), so no batch of the epoch is left out."""
    if world == 1 or not batches:
        return batches
    short = -len(batches) % world
    padded = batches + [batches[i % len(batches)] for i in range(short)]
    return padded[rank::world]


def score_items(net: RewardNet, items, cache: EmbeddingCache | None = None, chunk: int = 64) -> torch.Tensor:
    """Rewards for items (no gradients); head mode reads embeddings from the cache."""
    if not items:
        return torch.zeros(0)
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            if net.spec.mode == "head" and cache is not None:
                return net.head_rewards(head_features(net, list(items), cache)).cpu()
            out = []
            for start in range(0, len(items), chunk):
                part = list(items[start:start + chunk])
                prepared = net.prepare(part)
                out.append(net.rewards(prepared, range(len(part))).float().cpu())
            return torch.cat(out)
    finally:
        net.train(was_training)



def score_with_spread(net: RewardNet, items, cache: EmbeddingCache | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(rewards, the ensemble's spread per item or None without an ensemble)."""
    if net.spec.mode != "head" or not items:
        return score_items(net, items, cache), None
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            features = head_features(net, list(items), cache)
            spread = net.head_spread(features)
            return net.head_rewards(features).cpu(), None if spread is None else spread.cpu()
    finally:
        net.train(was_training)
