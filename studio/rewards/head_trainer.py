"""Head mode: the backbone is frozen, each output's features come from the embedding cache
(computed on first sight), and only the small head trains, over all pairs in a few hundred
cheap steps (the head scores every output at once: one matrix product per step)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from studio.rewards.common import (
    ProgressFn,
    TrainingCancelled,
    TrainOutcome,
    TrainProgress,
    accuracy,
    embedding_cache,
    fresh_accelerator,
    head_features,
    no_pairs,
    seed_everything,
    shard,
    unwrapped,
)
from studio.rewards.data import Batch, PreferenceData
from studio.rewards.heads import EnsembleHead, feature_spread
from studio.rewards.loss import bt_loss
from studio.rewards.net import RewardNet


@dataclass(frozen=True)
class HeadConfig:
    """Everything head mode's trainer reads (and nothing else)."""
    epochs: int = 3               # at least; raised until `min_steps` steps are taken
    batch_pairs: int = 256        # pairs per step, also the loss's fixed normaliser
    min_steps: int = 300
    max_epochs: int = 500
    learning_rate: float = 1e-3   # the head's (Adam)
    l2: float = 1e-4              # penalty on the head's weights (not its bias)
    seed: int = 0


def train_head(net: RewardNet, data: PreferenceData, heldout: PreferenceData | None, config: HeadConfig, *,
               cache_root: Path | None = None, progress: ProgressFn | None = None,
               should_stop: Callable[[], bool] | None = None) -> TrainOutcome:
    no_pairs(data)
    started = time.monotonic()
    seed_everything(config.seed)
    accelerator = fresh_accelerator()    # the head trains in float32, whatever ran before
    net.backbone.requires_grad_(False)
    net.backbone.eval()
    net.to(accelerator.device)
    cache = embedding_cache(cache_root, net)
    features = head_features(net, data.items, cache, progress, started)
    held_features = head_features(net, heldout.items, cache, progress, started) if heldout and heldout.pairs else None
    embed_s = time.monotonic() - started
    features = features.to(accelerator.device)
    if isinstance(net.head, EnsembleHead):   # each member on its own bootstrap resample of the votes
        members = list(net.head.members)
        parts = [bootstrap(data, config.seed * 7919 + k) for k in range(len(members))]
    else:
        members, parts = [net.head], [data]
    spread = feature_spread(features)
    for member in members:
        member.standardise(spread)
    fit = Fit(accelerator, features, config, progress, should_stop, started, len(members))
    for number, (member, part) in enumerate(zip(members, parts, strict=True)):
        trained = fit(member, part, config.seed + 1000 * number)
        if isinstance(net.head, EnsembleHead):
            net.head.members[number] = trained
        else:
            net.head = trained
    net.head.eval()
    step, epochs, losses, train_s = fit.step, fit.epochs, fit.losses, fit.train_s

    metrics = {"mode": "head", "train_pairs": len(data.pairs), "epochs": epochs, "steps": step,
               "loss": losses[-1] if losses else None, "first_epoch_loss": losses[0] if losses else None,
               "learning_rate": config.learning_rate, "embed_s": round(embed_s, 3), "train_s": round(train_s, 3),
               "pairs_per_s": len(data.pairs) * epochs * len(members) / train_s if train_s > 0 else None,
               "ensemble": len(members) if len(members) > 1 else 0}
    total = step
    rewards = None
    if held_features is not None:
        if progress:
            progress(TrainProgress("evaluating", step, total, elapsed_s=time.monotonic() - started))
        with torch.inference_mode():
            rewards = net.head_rewards(held_features).detach().cpu()
        metrics.update(accuracy(rewards, heldout))
    else:
        metrics.update(accuracy(torch.zeros(0), PreferenceData()))
    metrics["wall_s"] = round(time.monotonic() - started, 3)
    return TrainOutcome(net=net, metrics=metrics, heldout_rewards=rewards)


class Fit:
    """Trains one head (or one ensemble member) on some pairs; keeps the step count, the
    epoch losses of the last member and the training time over all of them."""

    def __init__(self, accelerator, features, config: HeadConfig, progress, should_stop, started, members: int):
        self.accelerator, self.features, self.config = accelerator, features, config
        self.progress, self.should_stop, self.started, self.members = progress, should_stop, started, members
        self.step, self.epochs, self.losses, self.train_s, self.pairs_done = 0, 0, [], 0.0, 0

    def __call__(self, head: nn.Module, data: PreferenceData, seed: int) -> nn.Module:
        config, accelerator = self.config, self.accelerator
        batches_of = head_batches(data, config.batch_pairs, seed, accelerator.num_processes,
                                  accelerator.process_index)
        per_epoch = len(batches_of(0))     # this process's steps per epoch (the same on every process)
        self.epochs = epochs = min(max(config.epochs, -(-config.min_steps // per_epoch)), config.max_epochs)
        total = per_epoch * epochs * self.members
        optimizer = torch.optim.Adam(head.parameters(), lr=config.learning_rate)
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: max(0.0, 1 - step / max(per_epoch * epochs, 1)))
        head, optimizer, scheduler = accelerator.prepare(head, optimizer, scheduler)
        head.train()
        self.losses, began = [], time.monotonic()
        for epoch in range(epochs):
            epoch_losses = []
            for batch in batches_of(epoch):
                if self.should_stop and self.should_stop():
                    raise TrainingCancelled("training cancelled")
                loss = bt_loss(head(self.features), batch.pairs, normaliser=config.batch_pairs)
                accelerator.backward(loss + config.l2 * head_weights(head).pow(2).sum())
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                self.step += 1
                self.pairs_done += len(batch.pairs)
                epoch_losses.append(float(loss.detach()) * config.batch_pairs / len(batch.pairs))
                if self.progress:
                    elapsed = self.train_s + time.monotonic() - began
                    self.progress(TrainProgress("training", self.step, total, loss=epoch_losses[-1],
                                                elapsed_s=time.monotonic() - self.started,
                                                eta_s=elapsed / self.step * (total - self.step),
                                                pairs=self.pairs_done))
            self.losses.append(sum(epoch_losses) / max(len(epoch_losses), 1))
        self.train_s += time.monotonic() - began
        return unwrapped(accelerator, head)


def bootstrap(data: PreferenceData, seed: int) -> PreferenceData:
    """The votes resampled with replacement (the same items, so cached features still line up)."""
    draw = torch.randint(len(data.pairs), (len(data.pairs),), generator=torch.Generator().manual_seed(seed))
    return PreferenceData(items=data.items, pairs=[data.pairs[i] for i in draw.tolist()],
                          max_comparison_id=data.max_comparison_id, min_comparison_id=data.min_comparison_id)


def head_batches(data: PreferenceData, size: int, seed: int, world: int, rank: int):
    """Pairs in a fresh seeded order each epoch, `size` per step (items are not grouped:
    their features are cached, and the head scores all of them in one product)."""
    every_item = list(range(len(data.items)))
    triples = [(p.left, p.right, p.target) for p in data.pairs]

    def batches(epoch: int) -> list[Batch]:
        order = torch.randperm(len(triples), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
        shuffled = [triples[i] for i in order.tolist()]
        steps = [Batch(items=every_item, pairs=shuffled[i:i + size]) for i in range(0, len(shuffled), size)]
        return shard(steps, world, rank)

    return batches


def head_weights(head: nn.Module) -> torch.Tensor:
    return torch.cat([p.flatten() for name, p in head.named_parameters() if name.endswith("weight")])
