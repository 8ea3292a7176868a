"""The small layers that turn an output's features into a reward: one head, or an ensemble
of heads whose spread says how sure the model is."""

from __future__ import annotations

import torch
from torch import nn


class RewardHead(nn.Module):
    def __init__(self, in_dim: int, hidden: int = 0, dropout: float = 0.1):
        super().__init__()
        if hidden > 0:
            self.layers = nn.Sequential(nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                        nn.Linear(hidden, 1))
        else:
            self.layers = nn.Sequential(nn.Linear(in_dim, 1))
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)
        # What each input feature is divided by. Head mode sets its spread over the training
        # outputs (`standardise`), so that the weight penalty weighs an embedding dimension
        # (spread ~0.004) and a log length (~1) alike; ones in full mode and in heads saved
        # before it, which load as they were trained.
        self.register_buffer("input_scale", torch.ones(in_dim))
        self.register_load_state_dict_pre_hook(_unit_scale_if_missing)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features / self.input_scale).squeeze(-1)

    def standardise(self, spread: torch.Tensor) -> None:
        """Divide each input by this spread (`feature_spread` of the training features) from now on."""
        self.input_scale.copy_(spread)


def feature_spread(features: torch.Tensor) -> torch.Tensor:
    """Each feature's standard deviation over these outputs; one for a feature that does not vary."""
    spread = features.float().std(dim=0) if len(features) > 1 else torch.ones(features.shape[-1])
    return torch.where(spread > 1e-8, spread, torch.ones_like(spread))


def _unit_scale_if_missing(module, state_dict, prefix, *_args) -> None:
    state_dict.setdefault(prefix + "input_scale", torch.ones_like(module.input_scale))


class EnsembleHead(nn.Module):
    """Several heads over the same features (bootstrap resamples of the votes): the reward is
    their mean, and their spread says how sure the model is of it."""

    def __init__(self, in_dim: int, hidden: int, members: int):
        super().__init__()
        self.members = nn.ModuleList(RewardHead(in_dim, hidden) for _ in range(members))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.each(features).mean(dim=0)

    def each(self, features: torch.Tensor) -> torch.Tensor:
        """[members, N]: every member's rewards."""
        return torch.stack([member(features) for member in self.members])
