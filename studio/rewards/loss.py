"""The Bradley-Terry loss and the optimiser's parameter groups, shared by both trainers.

Loss: binary cross-entropy of `r_left - r_right` against the vote (1, 0, or 0.5 for a tie),
summed over a step's pairs and divided by a FIXED normaliser (the nominal pairs per step),
not by how many pairs the step happened to hold. Full mode packs anywhere from 1 to
C(32, 2) pairs into a step (all rated pairs among its outputs): with a per-step mean a pair's
weight would depend on what it was packed with; with a fixed normaliser every pair weighs
the same, so the same pairs packed two ways give the same total loss and gradient.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

NO_DECAY_MARKERS = ("bias", "norm", "ln_", "layernorm", "layer_norm")


def bt_loss(rewards: torch.Tensor, pairs: Sequence[tuple[int, int, float]],
            normaliser: float | None = None) -> torch.Tensor:
    """Sum of the pairs' losses / `normaliser` (None: the number of pairs, a plain mean, for
    evaluation). `pairs` are (left position, right position, target) into `rewards`."""
    left = torch.tensor([p[0] for p in pairs], device=rewards.device)
    right = torch.tensor([p[1] for p in pairs], device=rewards.device)
    target = torch.tensor([p[2] for p in pairs], device=rewards.device, dtype=rewards.dtype)
    total = nn.functional.binary_cross_entropy_with_logits(rewards[left] - rewards[right], target, reduction="sum")
    return total / (len(pairs) if normaliser is None else float(normaliser))


def decay_groups(named: Sequence[tuple[str, nn.Parameter]], *, lr: float, weight_decay: float) -> list[dict]:
    """AdamW groups: weight decay on weight matrices only, none on biases and norms (their
    scale is not a capacity to shrink; as in nanoGPT and most transformer recipes)."""
    decay, plain = [], []
    for name, param in named:
        if not param.requires_grad:
            continue
        lowered = name.lower()
        if param.ndim < 2 or any(marker in lowered for marker in NO_DECAY_MARKERS):
            plain.append(param)
        else:
            decay.append(param)
    groups = []
    if decay:
        groups.append({"params": decay, "lr": lr, "weight_decay": weight_decay})
    if plain:
        groups.append({"params": plain, "lr": lr, "weight_decay": 0.0})
    return groups
