"""Reward-model training as jobs: in the foreground (a notebook, `studio train`) under a job
row of its own, queued for a worker, or run by the worker from the queue. Never two at
once: the job row's `active_key` is unique while a training is queued or running.

    service.train_now(TrainingRequest(mode="head"), show=progress_bar)
    service.enqueue(TrainingRequest(mode="full"))      # a worker picks it up
    service.run_job(job_id)                            # what the worker's task calls
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.config import StudioConfig
from studio.errors import StudioError
from studio.services.heartbeat import Heartbeat
from studio.services.job_reporter import JobReporter
from studio.services.jobs import JobBoard, TaskQueue, worker_name
from studio.services.pool_jobs import GENERATE_KIND, GENERATE_TASK
from studio.services.registry import RewardRegistry
from studio.services.training_request import TrainingRequest
from studio.services.training_run import JobEnded, train_and_register
from studio.store import Store
from studio.store.jobs import JobRecord

TRAIN_KIND = "train_reward_model"       # the jobs table's kind for a reward-model training
ACTIVE_KEY = TRAIN_KIND                 # one training at a time, whatever its mode
TRAIN_TASK = "studio.train_reward_model"   # the Huey task that runs one
# Every kind of job and the task that runs it: what recovering lost tasks sends again.
JOB_TASKS = {TRAIN_KIND: TRAIN_TASK, GENERATE_KIND: GENERATE_TASK}


def _job_tasks() -> dict[str, str]:
    """Every queued job kind and the task that runs it (improvements and feature builds
    included: imported here, since those services build on this one's pieces)."""
    from studio.services.features import FEATURES_KIND, FEATURES_TASK
    from studio.services.improvement import IMPROVE_KIND, IMPROVE_TASK

    return {**JOB_TASKS, IMPROVE_KIND: IMPROVE_TASK, FEATURES_KIND: FEATURES_TASK}


class TrainingService:
    def __init__(self, store: Store, config: StudioConfig, registry: RewardRegistry, jobs: JobBoard,
                 queue: TaskQueue | None = None):
        self.store = store
        self.config = config
        self.registry = registry
        self.jobs = jobs
        self.queue = queue

    def train_now(self, request: TrainingRequest, show: Callable | None = None) -> dict[str, Any]:
        """Train in this process under a job row of its own (so the UI sees it and no second
        training starts meanwhile); errors reach the caller."""
        from studio.rewards.train import TrainingCancelled

        self.release_abandoned()
        me = worker_name()
        with self.store.transaction() as tx:
            job = tx.jobs.create(TRAIN_KIND, {**request.to_payload(), "foreground": True}, active_key=ACTIVE_KEY)
            if job is None:
                holder = tx.jobs.holding(ACTIVE_KEY)
                raise StudioError(f"a training is already {holder.status if holder else 'running'} "
                                  f"(job {holder.id if holder else '?'}): wait for it, or cancel it with "
                                  "`studio jobs cancel ID`")
            tx.jobs.start(job.id, me)
        reporter = JobReporter(self.store, job.id)

        def report(update) -> None:
            reporter(update)
            if show:
                show(update)

        try:
            with Heartbeat(self.store, job.id, me):
                return self._train(request, job.id, report, reporter.should_stop,
                                   lambda m: f"v{m['version']} trained in the foreground")
        except BaseException as exc:
            with self.store.transaction() as tx:
                if isinstance(exc, TrainingCancelled):
                    ended_here = tx.jobs.cancelled(job.id)
                else:
                    ended_here = tx.jobs.fail(job.id, f"{type(exc).__name__}: {exc}")
                status = tx.jobs.get(job.id).status
            if not ended_here and not isinstance(exc, JobEnded) and status != "cancelled":
                raise JobEnded(f"job {job.id} was {status} before its training finished: nothing was registered "
                               "and the active reward model is unchanged") from exc
            raise
        finally:
            if show:
                show(None)

    def enqueue(self, request: TrainingRequest) -> JobRecord:
        """Queue a training for a worker; when one is already queued or running, nothing new
        is queued and that job is returned."""
        if self.queue is None:
            raise StudioError("this studio has no job queue: train in the foreground with train_reward_model()")
        self.release_abandoned()
        with self.store.transaction() as tx:
            newest = tx.reward_models.max_comparison_id()
            payload = {**request.to_payload(), "after_comparison_id": newest}
            job = tx.jobs.create(TRAIN_KIND, payload, active_key=ACTIVE_KEY)
            if job is None:
                return tx.jobs.holding(ACTIVE_KEY) or tx.jobs.latest(TRAIN_KIND)
        return self.jobs.send(job.id, TRAIN_TASK)

    def run_job(self, job_id: int) -> dict[str, Any] | None:
        """Run a queued training job (the worker's task), mirroring everything into its row.
        Returns its metrics; None when it was cancelled, failed, already taken or ended
        meanwhile (then nothing is registered)."""
        from studio.rewards.train import TrainingCancelled

        me = worker_name()
        with self.store.transaction() as tx:
            if not tx.jobs.start(job_id, me):
                return None
            job = tx.jobs.get(job_id)
        reporter = JobReporter(self.store, job_id)
        try:
            with Heartbeat(self.store, job_id, me):
                return self._train(TrainingRequest.from_payload(job.payload), job_id, reporter,
                                   reporter.should_stop, _summary)
        except JobEnded:
            return None
        except TrainingCancelled:
            with self.store.transaction() as tx:
                tx.jobs.cancelled(job_id, "cancelled while training; the active model is unchanged")
            return None
        except Exception as exc:
            self.jobs.fail(job_id, exc)
            return None

    def recover(self) -> tuple[list[int], list[int]]:
        """What a worker does at start and on a schedule: fail the jobs whose worker is
        gone, and send again the queued ones (trainings and pool top-ups) whose task the queue lost. Returns (failed ids,
        re-sent or failed queued ids)."""
        return self.jobs.recover_abandoned(), self.jobs.recover_lost(_job_tasks())

    def release_abandoned(self) -> None:
        """A training left running by a dead process (a notebook or a foreground run killed
        mid-way, with no worker to notice) must not block the queue, nor a queued one whose
        task the queue lost."""
        self.jobs.release_held(ACTIVE_KEY, _job_tasks())

    def holder(self) -> JobRecord | None:
        """The training queued or running now, if any."""
        with self.store.reader() as tx:
            return tx.jobs.holding(ACTIVE_KEY)

    def _train(self, request: TrainingRequest, job_id: int, progress, should_stop, summary) -> dict[str, Any]:
        return train_and_register(self.store, self.config, self.registry, request, job_id=job_id,
                                  progress=progress, should_stop=should_stop, summary=summary)


def _summary(metrics: dict[str, Any]) -> str:
    return (f"v{metrics['version']} ({metrics.get('kind', 'text')}): held-out accuracy "
            f"{_pct(metrics.get('heldout_accuracy'))}" + (" (activated)" if metrics.get("activated") else " (not activated)"))


def _pct(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"
