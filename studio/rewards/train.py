"""The Bradley-Terry training loop, on Accelerate (so `accelerate launch` spreads it over
several GPUs with no code change).

Loss: `-log sigmoid(r_left - r_right)` for a decisive vote, with the target 0.5 for a tie
(binary cross-entropy on the reward difference). Each step scores a set of outputs once and
applies the loss to every rated pair among them (see `data.group_batches`).

head mode: the backbone is frozen; each output's embedding comes from the embedding cache
(computed on first sight), and only the small head trains, over all pairs in a few hundred
cheap steps. full mode: the backbone trains too (all of it, its top layers, or LoRA).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from studio.errors import StudioError
from studio.rewards.data import Batch, PreferenceData, group_batches
from studio.rewards.embeddings import EmbeddingCache, namespace
from studio.rewards.net import RewardNet

FULL_LEARNING_RATE = 5e-5


class TrainingCancelled(StudioError):
    """The job was cancelled; nothing was saved."""


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 3
    batch_size: int = 16                 # full mode: pairs per step on one-pair-per-prompt data
    learning_rate: float | None = None   # full mode: the backbone's (default FULL_LEARNING_RATE)
    head_learning_rate: float = 1e-3     # the head's, in both modes
    weight_decay: float = 0.01           # full mode (AdamW)
    seed: int = 0
    # head mode: the head is tiny and its inputs are cached, so it trains on big batches for
    # at least `head_min_steps` steps (raising the epochs on small data), with an L2 penalty.
    head_batch_size: int = 256
    head_min_steps: int = 300
    head_max_epochs: int = 500
    head_l2: float = 1e-4


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


def bt_loss(rewards: torch.Tensor, pairs: list[tuple[int, int, float]]) -> torch.Tensor:
    left = torch.tensor([p[0] for p in pairs], device=rewards.device)
    right = torch.tensor([p[1] for p in pairs], device=rewards.device)
    target = torch.tensor([p[2] for p in pairs], device=rewards.device, dtype=rewards.dtype)
    return nn.functional.binary_cross_entropy_with_logits(rewards[left] - rewards[right], target)


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


def compare_on(data: PreferenceData, new: torch.Tensor, old: torch.Tensor) -> tuple[float, float]:
    """(new accuracy - old accuracy, one standard error of that difference) on the same
    pairs: a paired comparison, so only the pairs the two models rank differently count."""
    diffs = [a - b for a, b in zip(pair_correctness(new, data), pair_correctness(old, data), strict=True)]
    if not diffs:
        return 0.0, 0.0
    mean = sum(diffs) / len(diffs)
    variance = sum((d - mean) ** 2 for d in diffs) / max(len(diffs) - 1, 1)
    return mean, (variance / len(diffs)) ** 0.5


def embedding_cache(root: Path | None, net: RewardNet) -> EmbeddingCache | None:
    if root is None:
        return None
    spec = net.spec
    return EmbeddingCache(Path(root) / namespace(spec.backbone, architecture=spec.architecture,
                                                 max_length=spec.max_length, version=1))


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


def train(net: RewardNet, data: PreferenceData, heldout: PreferenceData | None, settings: TrainSettings, *,
          cache_root: Path | None = None, progress: ProgressFn | None = None,
          should_stop: Callable[[], bool] | None = None) -> TrainOutcome:
    """Train `net` on `data`; evaluate on `heldout`. Returns the net and its metrics."""
    from accelerate import Accelerator, DistributedDataParallelKwargs

    if not data.pairs:
        raise StudioError("no preference pairs to train on: record some decisive votes or ties first")
    started = time.monotonic()
    seed_everything(settings.seed)
    head_mode = net.spec.mode == "head"
    # full mode over several processes (`accelerate launch` sets WORLD_SIZE): parts of a backbone
    # (a pooler, frozen or LoRA-less layers) get no gradient, which DistributedDataParallel must
    # be told to expect (it costs a graph traversal per step, so only then).
    several = int(os.environ.get("WORLD_SIZE", "1")) > 1
    handlers = [DistributedDataParallelKwargs(find_unused_parameters=True)] if several and not head_mode else []
    accelerator = Accelerator(kwargs_handlers=handlers)
    world, rank = accelerator.num_processes, accelerator.process_index
    if head_mode:
        net.backbone.requires_grad_(False)
        net.backbone.eval()
        net.to(accelerator.device)
        cache = embedding_cache(cache_root, net)
        features = head_features(net, data.items, cache, progress, started)
        held_features = head_features(net, heldout.items, cache, progress, started) if heldout and heldout.pairs else None
        trainable: nn.Module = net.head
        batches_of = _head_batches(data, settings.head_batch_size, settings.seed, world, rank)
        per_epoch = len(batches_of(0))     # this process's steps per epoch (the same on every process)
        epochs = min(max(settings.epochs, -(-settings.head_min_steps // per_epoch)), settings.head_max_epochs)
        lr = settings.head_learning_rate
        optimizer = torch.optim.Adam(net.head.parameters(), lr=lr)
    else:
        _limit_trainable(net)
        prepared = net.prepare(data.items)
        trainable = net
        epochs = settings.epochs
        lr = settings.learning_rate or FULL_LEARNING_RATE
        groups = [{"params": [p for p in net.backbone.parameters() if p.requires_grad], "lr": lr}]
        if net.head is not None:
            groups.append({"params": list(net.head.parameters()), "lr": settings.head_learning_rate})
        optimizer = torch.optim.AdamW(groups, weight_decay=settings.weight_decay)
        plan = [_shard(group_batches(data, settings.batch_size * 2, settings.seed + epoch), world, rank)
                for epoch in range(epochs)]
        per_epoch = len(plan[0])
        batches_of = plan.__getitem__
    embed_s = time.monotonic() - started

    total = per_epoch * epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / max(total, 1)))
    trainable, optimizer, scheduler = accelerator.prepare(trainable, optimizer, scheduler)
    if head_mode:
        features = features.to(accelerator.device)

    trainable.train()
    net.backbone.eval()   # no dropout in the backbone (frozen, or fine-tuned as TRL does by default)
    step, pairs_done, losses, epoch_accuracy, train_started = 0, 0, [], [], time.monotonic()
    for epoch in range(epochs):
        epoch_losses = []
        for batch in batches_of(epoch):
            if should_stop and should_stop():
                raise TrainingCancelled("training cancelled")
            if head_mode:   # the head scores every output at once: a matrix product
                rewards = trainable(features)
            else:
                rewards = trainable(prepared, batch.items)
            loss = bt_loss(rewards, batch.pairs)
            objective = loss + settings.head_l2 * _head_weights(trainable).pow(2).sum() if head_mode else loss
            accelerator.backward(objective)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            pairs_done += len(batch.pairs)
            loss_value = float(loss.detach())
            epoch_losses.append(loss_value)
            if progress:
                elapsed = time.monotonic() - train_started
                progress(TrainProgress("training", step, total, loss=loss_value,
                                       elapsed_s=time.monotonic() - started,
                                       eta_s=elapsed / step * (total - step), pairs=pairs_done))
        losses.append(sum(epoch_losses) / max(len(epoch_losses), 1))
        if not head_mode and heldout is not None and heldout.pairs and epoch < epochs - 1:
            # full mode runs a few costly epochs: say after each whether held-out agreement still
            # grows (the last epoch's is the final evaluation below)
            scored = score_items(accelerator.unwrap_model(trainable), heldout.items)
            epoch_accuracy.append(accuracy(scored, heldout)["heldout_accuracy"])
            net.backbone.eval()
    train_s = time.monotonic() - train_started
    trainable.eval()
    net = accelerator.unwrap_model(trainable) if not head_mode else net
    net.head = accelerator.unwrap_model(trainable) if head_mode else net.head

    metrics = {"mode": net.spec.mode, "train_pairs": len(data.pairs), "epochs": epochs, "steps": step,
               "loss": losses[-1] if losses else None, "first_epoch_loss": losses[0] if losses else None,
               "learning_rate": lr, "embed_s": round(embed_s, 3), "train_s": round(train_s, 3),
               "pairs_per_s": len(data.pairs) * epochs / train_s if train_s > 0 else None}
    if heldout is not None and heldout.pairs:
        if progress:
            progress(TrainProgress("evaluating", step, total, elapsed_s=time.monotonic() - started))
        with torch.inference_mode():
            rewards = (net.head_rewards(held_features).detach().cpu() if head_mode
                       else score_items(net, heldout.items))
        metrics.update(accuracy(rewards, heldout))
        if epoch_accuracy:
            metrics["epoch_heldout_accuracy"] = [*epoch_accuracy, metrics["heldout_accuracy"]]
    else:
        rewards = None
        metrics.update(accuracy(torch.zeros(0), PreferenceData()))
    metrics["wall_s"] = round(time.monotonic() - started, 3)
    return TrainOutcome(net=net, metrics=metrics, heldout_rewards=rewards)


def _shard(batches: list[Batch], world: int, rank: int) -> list[Batch]:
    """This process's share; every process gets the same number of steps. When the batches
    do not divide evenly, the first ones are reused to fill the last round (as PyTorch's
    DistributedSampler pads), so no batch of the epoch is left out."""
    if world == 1 or not batches:
        return batches
    short = -len(batches) % world
    padded = batches + [batches[i % len(batches)] for i in range(short)]
    return padded[rank::world]


def _head_batches(data: PreferenceData, size: int, seed: int, world: int, rank: int):
    """Head mode: pairs in a fresh seeded order each epoch, `size` per step (items are not
    grouped: their embeddings are cached, and the head scores all of them in one product)."""
    every_item = list(range(len(data.items)))
    triples = [(p.left, p.right, p.target) for p in data.pairs]

    def batches(epoch: int) -> list[Batch]:
        order = torch.randperm(len(triples), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        shuffled = [triples[i] for i in order.tolist()]
        steps = [Batch(items=every_item, pairs=shuffled[i:i + size]) for i in range(0, len(shuffled), size)]
        return _shard(steps, world, rank)

    return batches


def _head_weights(head: nn.Module) -> torch.Tensor:
    return torch.cat([p.flatten() for name, p in head.named_parameters() if name.endswith("weight")])


def _limit_trainable(net: RewardNet) -> None:
    """full mode: LoRA adapters (spec.lora_rank) or only the top layers (spec.train_layers)."""
    spec = net.spec
    if spec.lora_rank and not hasattr(net.backbone, "peft_config"):
        from peft import LoraConfig, get_peft_model

        config = LoraConfig(r=spec.lora_rank, lora_alpha=2 * spec.lora_rank, lora_dropout=0.05,
                            target_modules="all-linear")
        net.backbone = get_peft_model(net.backbone, config)
    elif spec.train_layers:
        layers = _layer_stack(net.backbone)
        if layers is None:
            raise StudioError(f"cannot find the layer stack of {spec.backbone!r} to train its top "
                              f"{spec.train_layers} layers; train all layers or use LoRA")
        net.backbone.requires_grad_(False)
        for layer in list(layers)[-spec.train_layers:]:
            layer.requires_grad_(True)


def _layer_stack(model: nn.Module) -> nn.ModuleList | None:
    """The longest ModuleList of transformer blocks (encoder.layer, layers, h, ...)."""
    stacks = [m for m in model.modules() if isinstance(m, nn.ModuleList) and len(m) > 0]
    return max(stacks, key=len) if stacks else None


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

