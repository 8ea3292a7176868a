"""The Bradley-Terry loss weighs every pair the same however steps pack them, and weight
decay leaves biases and norms alone."""

from __future__ import annotations

import torch
from torch import nn

from studio.rewards.data import group_batches
from studio.rewards.loss import bt_loss, decay_groups
from tests.rewards.helpers import marker_data


def _total(rewards: torch.Tensor, data, batches) -> torch.Tensor:
    total = torch.zeros(())
    for batch in batches:
        total = total + bt_loss(rewards[torch.tensor(batch.items)], batch.pairs, normaliser=8)
    return total


def test_the_same_pairs_packed_two_ways_give_the_same_loss_and_gradient():
    data = marker_data(prompts=6, outputs=5, seed=2)
    rewards = torch.randn(len(data.items), requires_grad=True)
    small = group_batches(data, max_items=2, seed=0)          # about one pair per step
    large = group_batches(data, max_items=10, seed=1)         # every pair of two prompts per step
    assert len(small) > 2 * len(large)
    first = _total(rewards, data, small)
    (grad_small,) = torch.autograd.grad(first, rewards)
    second = _total(rewards, data, large)
    (grad_large,) = torch.autograd.grad(second, rewards)
    assert torch.allclose(first, second) and torch.allclose(grad_small, grad_large)
    mean_small = sum(bt_loss(rewards[torch.tensor(b.items)], b.pairs) for b in small)
    mean_large = sum(bt_loss(rewards[torch.tensor(b.items)], b.pairs) for b in large)
    assert not torch.allclose(mean_small, mean_large)        # what a per-step mean did


def test_weight_decay_is_off_for_biases_and_norms():
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 1))
    groups = decay_groups(list(model.named_parameters()), lr=1e-3, weight_decay=0.1)
    decayed = {id(p) for g in groups if g["weight_decay"] > 0 for p in g["params"]}
    assert decayed == {id(model[0].weight), id(model[2].weight)}
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
