"""Reward models and background jobs on the `Studio` facade: train one now or queue it,
build a backbone's feature cache, the retrain trigger, loading, activating and asking a
version, and the jobs themselves. Each method hands the call to its service. `Studio`
inherits these, so notebooks keep `studio.train_reward_model()`, `studio.jobs()`, ...
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from studio.services.features import FeatureRequest
from studio.services.training_request import TrainingRequest

if TYPE_CHECKING:
    from studio.config import StudioConfig
    from studio.jobs import JobQueue
    from studio.services.features import FeatureService
    from studio.services.jobs import JobBoard
    from studio.services.registry import Prediction, RewardRegistry
    from studio.services.retrain import RetrainPolicy
    from studio.services.training import TrainingService
    from studio.store.jobs import JobRecord


class StudioRewardModels:
    """The reward-model and job calls of `Studio`; the services come from `Studio.__init__`."""

    config: StudioConfig
    registry: RewardRegistry
    training: TrainingService
    retrain: RetrainPolicy
    features: FeatureService
    job_board: JobBoard
    _queue: JobQueue

    def reward_model(self, version: int | str = "active"):
        """Load a reward model: "active" (the one in use), "latest", or a version number."""
        return self.registry.load(version)

    def reward_models(self) -> pd.DataFrame:
        """Every reward-model version, oldest first: kind, mode, backbone, active, created_at,
        heldout_accuracy (on held-out human votes), pairs, loss, checkpoint path, metrics."""
        return self.registry.frame()

    def activate_reward_model(self, version: int) -> None:
        """Make a version the active one (for its kind)."""
        self.registry.activate(version)

    def train_reward_model(self, *, mode: str = "head", kind: str | None = None, backbone: str | None = None,
                           pairs_file=None, eval_file=None, epochs: int | None = None, max_pairs: int | None = None,
                           max_length: int | None = None, activate: str = "if_better",
                           progress: bool | Callable | None = None, **advanced: Any) -> dict[str, Any]:
        """Train a reward model now, in this process, through the code the background job runs.

        One model per kind of output: `kind` "text" or "image" trains on the votes on that
        kind only (None: the votes' kind, which must then be one).
        Trains on the studio's votes (or `pairs_file`, TRL prompt/chosen/rejected JSONL),
        held-out by prompt (or evaluated on `eval_file`), registers a new version and activates
        it when `activate` says so ("if_better": when it passes the activation gate: better
        than chance and than "the longer answer wins" on the fixed held-out votes, each beyond
        the noise, not worse than the best so far). Returns metrics: heldout_accuracy (and
        heldout_low/high, its 95% interval), gate, heldout_pairs, loss, pairs_per_s, wall_s,
        version, activated. `advanced`:
        learning_rate, batch_size, lora_rank, train_layers, seed, ensemble (head mode: heads on
        bootstrap resamples, so scores come with a spread), head_hidden (0: a linear head). `progress`: True/False for
        bars, or a callable receiving each update."""
        from studio.progress import phase_bars

        request = TrainingRequest.of(mode=mode, kind=kind, backbone=backbone, pairs_file=pairs_file, eval_file=eval_file,
                                     epochs=epochs, max_pairs=max_pairs, max_length=max_length, activate=activate,
                                     **advanced)
        return self.training.train_now(request, phase_bars(progress))

    def enqueue_training(self, *, mode: str | None = None, kind: str | None = None, backbone: str | None = None,
                         epochs: int | None = None, max_pairs: int | None = None, max_length: int | None = None,
                         activate: str = "if_better", requested_by: str | None = None, trigger: str = "manual",
                         **advanced: Any) -> JobRecord:
        """Queue a training for the worker (of the `kind` "text" or "image" model; None: the
        votes' one kind); returns its job record. When a training is already queued or
        running, nothing new is queued and that job is returned."""
        request = TrainingRequest.of(mode=mode or self.config.training.mode, kind=kind, backbone=backbone, epochs=epochs,
                                     max_pairs=max_pairs, max_length=max_length, activate=activate,
                                     requested_by=requested_by, trigger=trigger, **advanced)
        return self.training.enqueue(request)

    def build_features(self, backbone: str, *, pairs_files: Sequence[str | os.PathLike[str]] = (),
                       max_length: int | None = None, background: bool = False,
                       progress: bool | Callable | None = None) -> dict[str, Any] | JobRecord:
        """Compute a reward backbone's embeddings of every text output (or of `pairs_files`'
        sides) into the cache head-mode trainings read, so a later training on that backbone
        skips the long part. Resumes where an earlier build stopped. `background`: queue it
        for a worker and return its job (progress and ETA in `studio.jobs()`); else build now
        and return counts (items, vectors, cached_before, embedded, wall_s)."""
        from studio.progress import phase_bars

        request = FeatureRequest(backbone, max_length=max_length, pairs_files=tuple(str(p) for p in pairs_files))
        if background:
            return self.features.enqueue(request)
        return self.features.build_now(request, phase_bars(progress))

    def votes_until_retrain(self, kind: str = "text") -> int | None:
        """Trainable votes on `kind` outputs still needed before the next automatic retrain
        (0: due now); None when automatic retraining is off."""
        return self.retrain.votes_until_retrain(kind)

    def maybe_enqueue_retraining(self) -> JobRecord | None:
        """Queue one training when enough new votes arrived since the last one (config:
        training.retrain_every, and full_retrain_every for full fine-tunes). Returns the job
        queued, or None."""
        return self.retrain.maybe_enqueue()

    def job(self, job_id: int) -> JobRecord:
        return self.job_board.get(job_id)

    def cancel_job(self, job_id: int) -> JobRecord:
        """Cancel a job: a queued one never runs; a running one stops at its next step."""
        return self.job_board.cancel(job_id)

    @property
    def queue(self):
        """This studio's Huey instance (SQLite file, Redis, or immediate mode)."""
        return self._queue.huey

    def predict_vote(self, comparison_id: int) -> Prediction | None:
        """The active reward model's probability that the left side of a vote wins (stored,
        so it is computed once); None when there is no active model for that kind of output."""
        return self.registry.predict_vote(comparison_id)

    def reward_agreement(self, version: int | str = "active") -> dict[str, Any]:
        """How often the model's predictions (made as votes came in) matched the human's
        choice on decisive votes: version, votes, agree, agreement (None with no votes)."""
        return self.registry.agreement(version)
