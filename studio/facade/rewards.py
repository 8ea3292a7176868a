"""Reward models and training jobs on the `Studio` facade.

    studio.train_reward_model(mode="head")         # foreground, same code as the job
    job = studio.enqueue_training(mode="full")     # background (a worker runs it)
    studio.jobs(); studio.job(job.id); studio.cancel_job(job.id)
    model = studio.reward_model()                  # the active version
    studio.reward_models()                         # every version with its held-out accuracy
    studio.predict_vote(comparison_id)             # the active model's P(left wins)

Every `config.training.retrain_every` new votes enqueue one head-mode training (and every
`full_retrain_every` a full fine-tune, when set); never two at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pandas as pd

from studio.errors import InputError, NotFoundError, StudioError
from studio.jobs.training import ACTIVE_KEY, TRAIN_KIND, TrainingRequest
from studio.records import VoteResult

LOADED_MODELS_KEPT = 2
_COUNTDOWN = threading.Lock()
RECHECK_WHILE_TRAINING = 10    # votes between looks at the threshold while a training runs


class Prediction(float):
    """P(left side wins) from a reward model, a float that also says which version made it."""

    def __new__(cls, prob_left: float, version: int):
        value = super().__new__(cls, prob_left)
        value.version = version
        return value

    @property
    def prob_left(self) -> float:
        return float(self)


class RewardsFacade:
    # -- reward models ---------------------------------------------------------------------

    def reward_model(self, version: int | str = "active"):
        """Load a reward model: "active" (the one in use), "latest", or a version number."""
        from studio.rewards.model import load

        record = self._reward_model_record(version)
        loaded = self._loaded_reward_models()
        with self._reward_model_lock():
            model = loaded.get(record.version)
            if model is None:
                model = load(record.checkpoint_path, version=record.version,
                             cache_root=self.config.data_dir / "embeddings")
                loaded[record.version] = model
                while len(loaded) > LOADED_MODELS_KEPT:
                    loaded.popitem(last=False)
            loaded.move_to_end(record.version)
        model.active = record.active
        return model

    def reward_models(self) -> pd.DataFrame:
        """Every reward-model version, oldest first: kind, mode, backbone, active, created_at,
        heldout_accuracy (on held-out human votes), pairs, loss, checkpoint path, metrics."""
        with self.store.reader() as tx:
            return tx.reward_models.frame()

    def activate_reward_model(self, version: int) -> None:
        """Make a version the active one (for its kind)."""
        with self.store.transaction() as tx:
            tx.reward_models.activate(int(version))

    def train_reward_model(self, *, mode: str = "head", backbone: str | None = None, pairs_file=None,
                           eval_file=None, epochs: int | None = None, max_pairs: int | None = None,
                           max_length: int | None = None, activate: str = "if_better",
                           progress: bool | Callable | None = None, **advanced: Any) -> dict[str, Any]:
        """Train a reward model now, in this process, through the code the background job runs.

        Trains on the studio's votes (or `pairs_file`, TRL prompt/chosen/rejected JSONL),
        held-out by prompt (or evaluated on `eval_file`), registers a new version and activates
        it when `activate` says so ("if_better": unless it is worse than the active version on
        the same held-out votes by more than the noise). Returns metrics: heldout_accuracy,
        heldout_pairs, loss,
        pairs_per_s, wall_s, version, activated. `advanced`: learning_rate, batch_size,
        lora_rank, train_layers, seed.
        """
        from studio.jobs.training import run_foreground

        request = self._training_request(mode=mode, backbone=backbone, pairs_file=pairs_file, eval_file=eval_file,
                                         epochs=epochs, max_pairs=max_pairs, max_length=max_length,
                                         activate=activate, **advanced)
        self._release_abandoned_training()
        return run_foreground(self, request, _progress_callback(progress))

    # -- jobs ------------------------------------------------------------------------------

    def enqueue_training(self, *, mode: str | None = None, backbone: str | None = None, epochs: int | None = None,
                         max_pairs: int | None = None, max_length: int | None = None, activate: str = "if_better",
                         requested_by: str | None = None, trigger: str = "manual", **advanced: Any):
        """Queue a training for the worker; returns its job record. When a training is
        already queued or running, nothing new is queued and that job is returned."""
        from studio.jobs.queue import TRAIN_TASK

        request = self._training_request(mode=mode or self.config.training.mode, backbone=backbone, epochs=epochs,
                                         max_pairs=max_pairs, max_length=max_length, activate=activate,
                                         requested_by=requested_by, trigger=trigger, **advanced)
        self._release_abandoned_training()
        with self.store.transaction() as tx:
            newest = tx.reward_models.max_comparison_id()
            payload = {**request.to_payload(), "after_comparison_id": newest}
            job = tx.jobs.create(TRAIN_KIND, payload, active_key=ACTIVE_KEY)
            if job is None:
                return tx.jobs.holding(ACTIVE_KEY) or tx.jobs.get(_latest_id(tx))
        try:
            handle = self.queue.studio_tasks[TRAIN_TASK](job.id)
        except Exception as exc:
            with self.store.transaction() as tx:
                tx.jobs.fail(job.id, f"could not queue the job: {type(exc).__name__}: {exc}")
            raise StudioError(f"cannot reach the job queue ({type(exc).__name__}: {exc}); "
                              "check queue_url in studio.toml, or unset it to use a SQLite queue") from exc
        with self.store.transaction() as tx:
            tx.jobs.set_task_id(job.id, handle.id)
            return tx.jobs.get(job.id)

    def jobs(self, *, limit: int | None = None, kind: str | None = None) -> pd.DataFrame:
        """Background jobs, newest first: status, progress (0..1), step, total_steps, eta_s,
        message, error, result."""
        with self.store.reader() as tx:
            return tx.jobs.frame(limit=limit, kind=kind)

    def job(self, job_id: int):
        with self.store.reader() as tx:
            return tx.jobs.get(int(job_id))

    def cancel_job(self, job_id: int):
        """Cancel a job: a queued one never runs; a running one stops at its next step."""
        with self.store.transaction() as tx:
            job = tx.jobs.request_cancel(int(job_id))
        if job.task_id and job.status == "cancelled":
            try:
                self.queue.revoke_by_id(job.task_id)
            except Exception:  # the row already says cancelled; the worker checks it first
                pass
        return job

    @property
    def queue(self):
        """This studio's Huey instance (SQLite file, Redis, or immediate mode)."""
        from studio.jobs.queue import is_immediate, make_huey

        huey = getattr(self, "_huey", None)
        if huey is None:
            huey = make_huey(self.config, self if is_immediate(self.config) else None)
            self._huey = huey
        return huey

    # -- the loop back into the arena ------------------------------------------------------

    def after_vote(self, result: VoteResult) -> None:
        super().after_vote(result)
        # Counting votes costs a few queries; when the last count said N more are needed,
        # the next N - 1 votes of this process skip it (votes elsewhere only make it sooner).
        # Concurrent votes take turns at the countdown; while one of them counts, the others
        # go on (the count sets the next countdown).
        with _COUNTDOWN:
            skip = getattr(self, "_retrain_check_skip", 0)
            self._retrain_check_skip = skip - 1 if skip > 0 else RECHECK_WHILE_TRAINING
        if skip <= 0:
            self.maybe_enqueue_retraining()

    def maybe_enqueue_retraining(self):
        """Queue one training when enough new votes arrived since the last one (config:
        training.retrain_every, and full_retrain_every for full fine-tunes). Returns the job
        queued, or None."""
        settings = self.config.training
        if settings.retrain_every <= 0 and settings.full_retrain_every <= 0:
            return None
        needed = []
        with self.store.reader() as tx:
            if tx.jobs.holding(ACTIVE_KEY) is not None:
                self._retrain_check_skip = RECHECK_WHILE_TRAINING
                return None
            due = None
            if settings.full_retrain_every > 0:
                since_full = tx.reward_models.votes_after(tx.reward_models.trained_through("full"))
                needed.append(settings.full_retrain_every - since_full)
                if since_full >= settings.full_retrain_every:
                    due = "full"
            if due is None and settings.retrain_every > 0:
                since_any = tx.reward_models.votes_after(tx.reward_models.trained_through(None))
                needed.append(settings.retrain_every - since_any)
                if since_any >= settings.retrain_every:
                    due = settings.mode
        if due is None:
            self._retrain_check_skip = max(0, min(needed) - 1)
            return None
        return self.enqueue_training(mode=due, trigger="votes")

    def predict_vote(self, comparison_id: int) -> Prediction | None:
        """The active reward model's probability that the left side of a vote wins (stored,
        so it is computed once); None when there is no active model for that kind of output."""
        from studio.rewards.data import from_comparisons

        with self.store.reader() as tx:
            row = tx.reward_models.comparison_row(int(comparison_id))
            kind = "image" if row["left_media"] else "text"
            active = tx.reward_models.active(kind)
            if active is None:
                return None
            stored = tx.reward_models.prediction(int(comparison_id), active.id)
        if stored is not None:
            return Prediction(stored, active.version)
        data = from_comparisons([{**row, "outcome": "left"}], media_root=self.config.data_dir)
        model = self.reward_model(active.version)
        first, second = data.items[data.pairs[0].left], data.items[data.pairs[0].right]
        prob = model.prob_first_wins(first, second)
        with self.store.transaction() as tx:
            tx.reward_models.save_predictions(active.id, {int(comparison_id): prob})
        return Prediction(prob, active.version)

    def reward_agreement(self, version: int | str = "active") -> dict[str, Any]:
        """How often the model's predictions (made as votes came in) matched the human's
        choice on decisive votes: version, votes, agree, agreement (None with no votes)."""
        with self.store.reader() as tx:
            try:
                record = self._reward_model_record(version, tx=tx)
            except NotFoundError:
                return {"version": None, "votes": 0, "agree": 0.0, "agreement": None}
            return {"version": record.version, **tx.reward_models.agreement(record.id)}

    # -- internals -------------------------------------------------------------------------

    def _release_abandoned_training(self) -> None:
        """A training left running by a dead process of this host (a notebook or a
        foreground run killed mid-way, with no worker to notice) must not block the queue."""
        from studio.jobs.worker import recover_abandoned

        with self.store.reader() as tx:
            holder = tx.jobs.holding(ACTIVE_KEY)
        if holder is not None and holder.status == "running":
            recover_abandoned(self)

    def _training_request(self, **values: Any) -> TrainingRequest:
        for name in ("pairs_file", "eval_file"):
            if values.get(name) is not None:
                values[name] = str(values[name])
        unknown = set(values) - set(TrainingRequest.__dataclass_fields__)
        if unknown:
            raise InputError(f"unknown training option {sorted(unknown)[0]!r}")
        return TrainingRequest(**{k: v for k, v in values.items() if v is not None})

    def _reward_model_record(self, version: int | str, tx=None):
        if tx is None:
            with self.store.reader() as reader:
                return self._reward_model_record(version, tx=reader)
        repo = tx.reward_models
        if isinstance(version, str) and version.strip().lower() == "active":
            record = repo.active("text") or repo.active("image")
            if record is None:
                raise NotFoundError("no active reward model yet: train one with studio.train_reward_model() "
                                    "or `studio train --data DIR`")
            return record
        if isinstance(version, str) and version.strip().lower() == "latest":
            latest = repo.next_version() - 1
            if latest < 1:
                raise NotFoundError("no reward model yet: train one with studio.train_reward_model()")
            return repo.get(latest)
        try:
            number = int(str(version).strip().lower().lstrip("v"))
        except ValueError:
            raise InputError(f"a reward model version is 'active', 'latest' or a number, got {version!r}") from None
        return repo.get(number)

    def _loaded_reward_models(self) -> OrderedDict:
        loaded = getattr(self, "_reward_models_cache", None)
        if loaded is None:
            loaded = self._reward_models_cache = OrderedDict()
        return loaded

    def _reward_model_lock(self) -> threading.Lock:
        lock = getattr(self, "_reward_models_lock", None)
        if lock is None:
            lock = self._reward_models_lock = threading.Lock()
        return lock

    def _forget_loaded_reward_models(self) -> None:
        self._loaded_reward_models().clear()


def _latest_id(tx) -> int:
    frame = tx.jobs.frame(limit=1, kind=TRAIN_KIND)
    return int(frame["id"].iloc[0])


def _progress_callback(progress: bool | Callable | None) -> Callable | None:
    """A user callback, a progress bar (True, or None in a terminal/notebook), or nothing."""
    if callable(progress):
        return lambda update: progress(update) if update is not None else None
    if progress is False:
        return None
    from studio.progress import bar, interactive

    if progress is None and not interactive():
        return None
    state: dict[str, Any] = {}

    def show(update) -> None:
        if update is None:
            if "bar" in state:
                state["bar"].close()
            return
        if state.get("phase") != update.phase:
            if "bar" in state:
                state["bar"].close()
            state["bar"] = bar(total=update.total_steps, desc=update.phase, unit="step", enabled=True)
            state["phase"] = update.phase
        progress_bar = state["bar"]
        progress_bar.total = update.total_steps
        progress_bar.n = update.step
        if update.loss is not None:
            progress_bar.set_postfix(loss=f"{update.loss:.4f}", refresh=False)
        progress_bar.refresh()

    return show
