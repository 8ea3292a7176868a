"""Full mode: the backbone trains too (all of it, its top layers, or LoRA adapters). Each
step encodes a set of outputs once and applies the loss to every rated pair among them
(data.group_batches), on Accelerate, so `accelerate launch` spreads it over several GPUs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from studio.errors import StudioError
from studio.rewards.backbones import layer_stack
from studio.rewards.common import (
    ProgressFn,
    TrainingCancelled,
    TrainOutcome,
    TrainProgress,
    accuracy,
    fresh_accelerator,
    no_pairs,
    score_items,
    seed_everything,
    shard,
    unwrapped,
)
from studio.rewards.data import PreferenceData, group_batches
from studio.rewards.loss import bt_loss, decay_groups
from studio.rewards.net import RewardNet, cpu_has_native_bf16


@dataclass(frozen=True)
class FullConfig:
    """Everything full mode's trainer reads (and nothing else)."""
    epochs: int = 1
    batch_size: int = 16               # nominal pairs per step: the loss's fixed normaliser
    learning_rate: float = 5e-5        # the backbone's (AdamW)
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01         # weight matrices only; none on biases and norms
    seed: int = 0
    bf16: bool | None = None           # bfloat16 autocast; None: where the hardware multiplies bfloat16 natively


def train_full(net: RewardNet, data: PreferenceData, heldout: PreferenceData | None, config: FullConfig, *,
               cache_root: Path | None = None, progress: ProgressFn | None = None,
               should_stop: Callable[[], bool] | None = None) -> TrainOutcome:
    from accelerate import DistributedDataParallelKwargs

    no_pairs(data)
    started = time.monotonic()
    seed_everything(config.seed)
    # over several processes (`accelerate launch` sets WORLD_SIZE): parts of a backbone (a
    # pooler, frozen or LoRA-less layers) get no gradient, which DistributedDataParallel must be
    # told to expect (it costs a graph traversal per step, so only then).
    several = int(os.environ.get("WORLD_SIZE", "1")) > 1
    bf16 = training_in_bf16(config)
    accelerator = fresh_accelerator("bf16" if bf16 else "no",
                                    kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)]
                                    if several else [])
    world, rank = accelerator.num_processes, accelerator.process_index
    limit_trainable(net)
    prepared = net.prepare(data.items)
    groups = decay_groups(list(net.backbone.named_parameters()), lr=config.learning_rate,
                          weight_decay=config.weight_decay)
    if net.head is not None:
        groups += decay_groups(list(net.head.named_parameters()), lr=config.head_learning_rate,
                               weight_decay=config.weight_decay)
    optimizer = torch.optim.AdamW(groups)
    plan = [shard(group_batches(data, config.batch_size * 2, config.seed + epoch), world, rank)
            for epoch in range(config.epochs)]
    per_epoch = len(plan[0])
    total = per_epoch * config.epochs
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / max(total, 1)))
    model, optimizer, scheduler = accelerator.prepare(net, optimizer, scheduler)
    model.train()
    net.backbone.eval()   # no dropout in the backbone (TRL's default too)
    step, pairs_done, losses, epoch_accuracy, train_started = 0, 0, [], [], time.monotonic()
    for epoch in range(config.epochs):
        epoch_losses = []
        for batch in plan[epoch]:
            if should_stop and should_stop():
                raise TrainingCancelled("training cancelled")
            loss = bt_loss(model(prepared, batch.items), batch.pairs, normaliser=config.batch_size)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            pairs_done += len(batch.pairs)
            epoch_losses.append(float(loss.detach()) * config.batch_size / len(batch.pairs))
            if progress:
                elapsed = time.monotonic() - train_started
                progress(TrainProgress("training", step, total, loss=epoch_losses[-1],
                                       elapsed_s=time.monotonic() - started,
                                       eta_s=elapsed / step * (total - step), pairs=pairs_done))
        losses.append(sum(epoch_losses) / max(len(epoch_losses), 1))
        if heldout is not None and heldout.pairs and epoch < config.epochs - 1:
            # a few costly epochs: say after each whether held-out agreement still grows
            scored = score_items(accelerator.unwrap_model(model), heldout.items)
            epoch_accuracy.append(accuracy(scored, heldout)["heldout_accuracy"])
            net.backbone.eval()
    train_s = time.monotonic() - train_started
    model.eval()
    net = unwrapped(accelerator, model)

    metrics = {"mode": "full", "precision": "bfloat16" if bf16 else "float32",
               "train_pairs": len(data.pairs), "epochs": config.epochs, "steps": step,
               "loss": losses[-1] if losses else None, "first_epoch_loss": losses[0] if losses else None,
               "learning_rate": config.learning_rate, "embed_s": 0.0, "train_s": round(train_s, 3),
               "pairs_per_s": len(data.pairs) * config.epochs / train_s if train_s > 0 else None}
    rewards = None
    if heldout is not None and heldout.pairs:
        if progress:
            progress(TrainProgress("evaluating", step, total, elapsed_s=time.monotonic() - started))
        rewards = score_items(net, heldout.items)
        metrics.update(accuracy(rewards, heldout))
        if epoch_accuracy:
            metrics["epoch_heldout_accuracy"] = [*epoch_accuracy, metrics["heldout_accuracy"]]
    else:
        metrics.update(accuracy(torch.zeros(0), PreferenceData()))
    metrics["wall_s"] = round(time.monotonic() - started, 3)
    return TrainOutcome(net=net, metrics=metrics, heldout_rewards=rewards)


def training_in_bf16(config: FullConfig) -> bool:
    """`config.bf16`, or when unset: on a CPU that multiplies bfloat16 natively (where a
    SmolLM2 step runs about twice as fast), or a GPU that supports it."""
    if config.bf16 is not None:
        return config.bf16
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return cpu_has_native_bf16()


def limit_trainable(net: RewardNet) -> None:
    """LoRA adapters (spec.lora_rank), on the top spec.train_layers layers only when both are
    set (the backward then stops below them), or only the top layers' weights (spec.train_layers)."""
    spec = net.spec
    if spec.lora_rank and not hasattr(net.backbone, "peft_config"):
        from peft import LoraConfig, get_peft_model

        targets = top_linear_names(net, spec.train_layers) if spec.train_layers else "all-linear"
        config = LoraConfig(r=spec.lora_rank, lora_alpha=2 * spec.lora_rank, lora_dropout=0.05,
                            target_modules=targets)
        net.backbone = get_peft_model(net.backbone, config)
    elif spec.train_layers:
        layers = stack_of(net)
        net.backbone.requires_grad_(False)
        for layer in list(layers)[-spec.train_layers:]:
            layer.requires_grad_(True)


def top_linear_names(net: RewardNet, count: int) -> list[str]:
    """The full names of the linear modules in the backbone's top `count` layers (PEFT's own
    layer filter does not find the layers of a bare backbone, whose names start with them)."""
    stack = stack_of(net)
    top = {id(layer) for layer in list(stack)[-count:]}
    names = []
    for name, layer in net.backbone.named_modules():
        if id(layer) in top:
            names += [f"{name}.{inner}" for inner, module in layer.named_modules() if isinstance(module, torch.nn.Linear)]
    return names


def stack_of(net: RewardNet):
    layers = layer_stack(net.backbone)
    if layers is None:
        raise StudioError(f"cannot find the layer stack of {net.spec.backbone!r} to train its top "
                          f"{net.spec.train_layers} layers; train all layers or use LoRA")
    return layers
