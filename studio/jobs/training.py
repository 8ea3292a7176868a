"""One training, start to finish: snapshot the votes, split by prompt, train, evaluate against
the active version on the same held-out votes, save the checkpoint, register, activate.

`Studio.train_reward_model` (foreground) and the Huey task (background) both run
`run_training`; the task wraps it in `run_job`, which mirrors status, progress, result and
error into the job's row.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.errors import InputError, StudioError

ACTIVATE = ("if_better", "always", "never")
TRAIN_KIND = "train_reward_model"
ACTIVE_KEY = "train_reward_model"      # one training at a time, whatever its mode
REPORT_EVERY_S = 1.0


@dataclass(frozen=True)
class TrainingRequest:
    mode: str = "head"
    backbone: str | None = None
    pairs_file: str | None = None
    eval_file: str | None = None
    epochs: int | None = None
    max_pairs: int | None = None
    max_length: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    lora_rank: int = 0
    train_layers: int | None = None
    seed: int | None = None
    activate: str = "if_better"
    trigger: str = "manual"            # manual | votes
    requested_by: str | None = None
    after_comparison_id: int = 0       # the newest vote when it was asked for

    def __post_init__(self):
        if self.mode not in ("head", "full"):
            raise InputError(f"mode must be head or full, got {self.mode!r}")
        if self.activate not in ACTIVATE:
            raise InputError(f"activate must be one of {', '.join(ACTIVATE)}, got {self.activate!r}")
        for name in ("epochs", "max_pairs", "max_length", "batch_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"{name} must be at least 1, got {value}")

    def to_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TrainingRequest:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in known})


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_training(studio, request: TrainingRequest, *, job_id: int | None = None,
                 progress: Callable | None = None, should_stop: Callable[[], bool] | None = None) -> dict[str, Any]:
    """Train, evaluate, save, register and (maybe) activate one reward model. Returns its
    metrics with `version` and `activated`."""
    from studio.rewards import checkpoint
    from studio.rewards.data import read_pairs_file, split_by_prompt
    from studio.rewards.net import build_net, make_spec
    from studio.rewards.train import TrainSettings, compare_on, train

    started = time.monotonic()
    config = studio.config.training
    seed = config.seed if request.seed is None else request.seed
    data, source = _training_data(studio, request)
    if request.eval_file:
        train_data, heldout = data, read_pairs_file(request.eval_file)
    else:
        train_data, heldout = split_by_prompt(data, config.heldout_fraction, seed)
    if request.max_pairs:
        train_data = train_data.head(request.max_pairs)
    if not train_data.pairs:
        raise StudioError("nothing to train on: every vote's prompt is held out or no decisive votes or ties "
                          "exist yet; record more votes on more prompts")
    backbone = request.backbone or config.backbone
    if data.kind == "image" and backbone == "all-minilm-l6-v2":
        raise InputError("these votes are on images: name a CLIP-style backbone (e.g. openai/clip-vit-base-patch32) "
                         "with --backbone or [training] backbone in studio.toml")
    spec = make_spec(backbone, kind=data.kind, mode=request.mode,
                     max_length=request.max_length or config.max_length,
                     lora_rank=request.lora_rank, train_layers=request.train_layers)
    head_mode = spec.mode == "head"
    settings = TrainSettings(epochs=request.epochs or (config.epochs if head_mode else config.full_epochs),
                             batch_size=request.batch_size or config.batch_size,
                             learning_rate=None if head_mode else request.learning_rate,
                             head_learning_rate=(request.learning_rate if head_mode and request.learning_rate
                                                 else config.learning_rate),
                             seed=seed)
    net = build_net(spec)
    outcome = train(net, train_data, heldout, settings, cache_root=studio.config.data_dir / "embeddings",
                    progress=progress, should_stop=should_stop)
    metrics = outcome.metrics
    previous = _active_on(studio, heldout, data.kind)
    if previous is not None:
        metrics["previous_version"], metrics["previous_heldout_accuracy"] = previous[0], previous[1]
        if previous[2] is not None and outcome.heldout_rewards is not None:
            metrics["heldout_gain"], metrics["heldout_gain_noise"] = compare_on(
                heldout, outcome.heldout_rewards, previous[2])
    activate = _should_activate(request.activate, metrics, previous)

    name = f"rm-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    data_range = {"source": source, "min_comparison_id": data.min_comparison_id,
                  "max_comparison_id": data.max_comparison_id, "train_pairs": len(train_data.pairs),
                  "heldout_pairs": len(heldout.pairs), "job_id": job_id}
    path = checkpoint.save(outcome.net, studio.config.checkpoints_dir / name, metrics=metrics, data=data_range)
    metrics["wall_s"] = round(time.monotonic() - started, 3)
    try:
        with studio.store.transaction() as tx:
            version = tx.reward_models.next_version()
            metrics["version"] = version
            metrics["activated"] = activate
            record = tx.reward_models.register(
                version=version, kind=spec.kind, mode=spec.mode, backbone=spec.backbone,
                checkpoint_path=str(path), metrics=_jsonable(metrics),
                data_max_comparison_id=data.max_comparison_id, job_id=job_id)
            if activate:
                tx.reward_models.activate(record.version)
    except BaseException:
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        raise
    studio._forget_loaded_reward_models()
    return metrics


def _training_data(studio, request: TrainingRequest):
    from studio.rewards.data import from_comparisons, read_pairs_file

    if request.pairs_file:
        return read_pairs_file(request.pairs_file), f"file:{Path(request.pairs_file).name}"
    with studio.store.reader() as tx:
        newest = tx.reward_models.max_comparison_id()
        rows = list(tx.reward_models.preference_rows(newest))
    return from_comparisons(rows, media_root=studio.config.data_dir), "votes"


def _active_on(studio, heldout, kind: str):
    """(version, accuracy on this held-out set, its rewards for the held-out items) of the
    active model of this kind; None without one."""
    from studio.rewards.train import accuracy

    with studio.store.reader() as tx:
        active = tx.reward_models.active(kind)
    if active is None:
        return None
    if not heldout.pairs:
        return active.version, None, None
    try:
        model = studio.reward_model(active.version)
    except StudioError:
        return active.version, None, None
    import torch

    rewards = torch.tensor(model.score_items(heldout.items))
    return active.version, accuracy(rewards, heldout)["heldout_accuracy"], rewards


def _should_activate(rule: str, metrics: dict[str, Any], previous) -> bool:
    """if_better: the new version replaces the active one unless, on the same held-out
    votes, it is worse by more than one standard error of the paired difference. A
    difference inside the noise goes to the newer model: it has seen more votes."""
    if rule == "always":
        return True
    if rule == "never":
        return False
    if previous is None or previous[1] is None:
        return True
    if metrics.get("heldout_accuracy") is None:
        return False
    gain, noise = metrics.get("heldout_gain"), metrics.get("heldout_gain_noise")
    if gain is None:
        return metrics["heldout_accuracy"] >= previous[1]
    return gain >= -noise


def _jsonable(metrics: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, float) and value != value:
            value = None
        out[key] = value
    return out


class _JobReporter:
    """Writes progress into the job row at most once a second; remembers cancel requests."""

    def __init__(self, studio, job_id: int):
        self.studio = studio
        self.job_id = job_id
        self.last = 0.0
        self.cancel = False

    def __call__(self, update) -> None:
        now = time.monotonic()
        if now - self.last < REPORT_EVERY_S and update.step < update.total_steps:
            return
        self.last = now
        message = f"{update.phase}: {update.step}/{update.total_steps}"
        if update.loss is not None:
            message += f", loss {update.loss:.4f}"
        total = update.total_steps if update.phase == "training" else None
        with self.studio.store.transaction() as tx:
            self.cancel = tx.jobs.report(self.job_id, step=update.step, total_steps=total,
                                         eta_s=update.eta_s, message=message)

    def should_stop(self) -> bool:
        if self.cancel:
            return True
        if time.monotonic() - self.last >= REPORT_EVERY_S:
            with self.studio.store.reader() as tx:
                self.cancel = tx.jobs.cancel_requested(self.job_id)
        return self.cancel


def run_foreground(studio, request: TrainingRequest, show: Callable | None = None) -> dict[str, Any]:
    """Train in this process under a job row of its own (so the UI sees it and no second
    training starts meanwhile); errors reach the caller."""
    from studio.rewards.train import TrainingCancelled

    with studio.store.transaction() as tx:
        job = tx.jobs.create(TRAIN_KIND, {**request.to_payload(), "foreground": True}, active_key=ACTIVE_KEY)
        if job is None:
            holder = tx.jobs.holding(ACTIVE_KEY)
            raise StudioError(f"a training is already {holder.status if holder else 'running'} "
                              f"(job {holder.id if holder else '?'}): wait for it, or cancel it with "
                              "`studio jobs cancel ID`")
        tx.jobs.start(job.id, worker_name())
    reporter = _JobReporter(studio, job.id)

    def report(update) -> None:
        reporter(update)
        if show:
            show(update)

    try:
        metrics = run_training(studio, request, job_id=job.id, progress=report, should_stop=reporter.should_stop)
    except BaseException as exc:
        with studio.store.transaction() as tx:
            if isinstance(exc, TrainingCancelled):
                tx.jobs.cancelled(job.id)
            else:
                tx.jobs.fail(job.id, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if show:
            show(None)
    with studio.store.transaction() as tx:
        tx.jobs.finish(job.id, _jsonable(metrics), f"v{metrics['version']} trained in the foreground")
    return metrics


def run_job(studio_or_config, job_id: int) -> dict[str, Any] | None:
    """Run a queued training job, mirroring everything into its row. Returns its metrics."""
    from studio.rewards.train import TrainingCancelled

    if hasattr(studio_or_config, "store"):
        return _run_job(studio_or_config, job_id, TrainingCancelled)
    from studio.api import Studio

    with Studio(studio_or_config) as studio:
        return _run_job(studio, job_id, TrainingCancelled)


def _run_job(studio, job_id: int, cancelled_error) -> dict[str, Any] | None:
    with studio.store.transaction() as tx:
        if not tx.jobs.start(job_id, worker_name()):
            return None
        job = tx.jobs.get(job_id)
    reporter = _JobReporter(studio, job_id)
    try:
        metrics = run_training(studio, TrainingRequest.from_payload(job.payload), job_id=job_id,
                               progress=reporter, should_stop=reporter.should_stop)
    except cancelled_error:
        with studio.store.transaction() as tx:
            tx.jobs.cancelled(job_id, "cancelled while training; the active model is unchanged")
        return None
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, StudioError):
            detail += "\n" + traceback.format_exc(limit=8)
        with studio.store.transaction() as tx:
            tx.jobs.fail(job_id, detail)
        return None
    summary = f"v{metrics['version']}: held-out accuracy {_pct(metrics.get('heldout_accuracy'))}" + \
              (" (activated)" if metrics.get("activated") else " (not activated)")
    with studio.store.transaction() as tx:
        tx.jobs.finish(job_id, _jsonable(metrics), summary)
    return metrics


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"
