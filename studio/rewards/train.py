"""`train`: one reward-model training with the trainer of the net's mode.

- `head_trainer.train_head(HeadConfig)`: frozen backbone, cached features, the head trains
  (an ensemble of heads on bootstrap resamples with `spec.ensemble`).
- `full_trainer.train_full(FullConfig)`: the backbone trains too (all, top layers or LoRA).
- `loss.bt_loss`: the Bradley-Terry loss with a fixed per-pair normaliser.
- `common`: what they share (accuracy, features, scoring, progress types).

`TrainSettings` is the flat bundle of options the studio's `train` flags set;
`TrainSettings.config(mode)` maps it to the one trainer's config (the only place the mapping
is made).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.errors import StudioError
from studio.rewards.common import (  # noqa: F401  (re-exported: what callers import from here)
    ProgressFn,
    TrainingCancelled,
    TrainOutcome,
    TrainProgress,
    accuracy,
    embedding_cache,
    head_features,
    score_items,
    score_with_spread,
    shard,
)
from studio.rewards.data import PreferenceData
from studio.rewards.net import RewardNet

FULL_LEARNING_RATE = 5e-5


@dataclass(frozen=True)
class TrainSettings:
    """The studio's flat training options (`studio train` flags, [training]); `config(mode)`
    gives the trainer's own config. `learning_rate` is the rate of what trains most: the
    head's in head mode, the backbone's in full mode (default FULL_LEARNING_RATE)."""
    epochs: int = 3
    batch_size: int = 16                 # full mode: nominal pairs per step
    learning_rate: float | None = None
    head_learning_rate: float = 1e-3     # full mode: the head's
    weight_decay: float = 0.01           # full mode (AdamW; not on biases and norms)
    seed: int = 0
    head_batch_size: int = 256
    head_min_steps: int = 300
    head_max_epochs: int = 500
    head_l2: float = 1e-4

    def config(self, mode: str):
        from studio.rewards.full_trainer import FullConfig
        from studio.rewards.head_trainer import HeadConfig

        if mode == "head":
            return HeadConfig(epochs=self.epochs, batch_pairs=self.head_batch_size, min_steps=self.head_min_steps,
                              max_epochs=self.head_max_epochs, learning_rate=self.learning_rate or self.head_learning_rate,
                              l2=self.head_l2, seed=self.seed)
        return FullConfig(epochs=self.epochs, batch_size=self.batch_size,
                          learning_rate=self.learning_rate or FULL_LEARNING_RATE,
                          head_learning_rate=self.head_learning_rate, weight_decay=self.weight_decay, seed=self.seed)


def train(net: RewardNet, data: PreferenceData, heldout: PreferenceData | None, settings, *,
          cache_root: Path | None = None, progress: ProgressFn | None = None,
          should_stop: Callable[[], bool] | None = None) -> TrainOutcome:
    """Train `net` on `data` with the trainer of its mode; evaluate on `heldout`. `settings` is
    a `HeadConfig`, a `FullConfig` or the studio's `TrainSettings`."""
    from studio.rewards.full_trainer import FullConfig, train_full
    from studio.rewards.head_trainer import HeadConfig, train_head

    config = settings.config(net.spec.mode) if isinstance(settings, TrainSettings) else settings
    if net.spec.mode == "head" and not isinstance(config, HeadConfig):
        raise StudioError("a head-mode reward model trains with a HeadConfig")
    if net.spec.mode != "head" and not isinstance(config, FullConfig):
        raise StudioError("a full-mode reward model trains with a FullConfig")
    trainer = train_head if isinstance(config, HeadConfig) else train_full
    return trainer(net, data, heldout, config, cache_root=cache_root, progress=progress, should_stop=should_stop)
