"""Improving a contender from the votes, as jobs like reward-model training: in the
foreground under a job row of its own, queued for a worker, or run by the worker. One at a
time per contender (the job row's unique `active_key`), cancellable between steps, and a job
that crashes or ends early registers nothing.

    service.improve_now(ImproveRequest("smol"), show=progress_bar)   # -> metrics, "smol@v2"
    service.enqueue(ImproveRequest("smol", method="rm-dpo"))         # a worker picks it up
    service.run_job(job_id)                                          # what the worker's task calls
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.artifacts import ArtifactStore
from studio.config import StudioConfig
from studio.errors import StudioError
from studio.services.generators import Generators
from studio.services.heartbeat import Heartbeat
from studio.services.improvement_request import ImproveRequest
from studio.services.improvement_run import (
    ImprovementEnded,
    Plan,
    improve_and_register,
    plan_improvement,
)
from studio.services.job_reporter import JobReporter
from studio.services.jobs import JobBoard, TaskQueue, worker_name
from studio.services.registry import RewardRegistry
from studio.store import Store
from studio.store.jobs import JobRecord

IMPROVE_KIND = "improve_contender"          # the jobs table's kind
IMPROVE_TASK = "studio.improve_contender"   # the Huey task that runs one


class ImprovementService:
    def __init__(self, store: Store, config: StudioConfig, registry: RewardRegistry, generators: Generators,
                 artifacts: ArtifactStore, jobs: JobBoard, queue: TaskQueue | None = None):
        self.store = store
        self.config = config
        self.registry = registry
        self.generators = generators
        self.artifacts = artifacts
        self.jobs = jobs
        self.queue = queue

    def plan(self, request: ImproveRequest) -> Plan:
        """Validate a request (reads only): a one-line error when it cannot run."""
        return plan_improvement(self, request)

    def improve_now(self, request: ImproveRequest, show: Callable | None = None) -> dict[str, Any]:
        """Improve in this process under a job row of its own; errors reach the caller."""
        from studio.policy.train import DPOCancelled

        plan = self.plan(request)
        self._release_abandoned(request)
        me = worker_name()
        with self.store.transaction() as tx:
            job = tx.jobs.create(IMPROVE_KIND, {**request.to_payload(), "foreground": True},
                                 active_key=request.active_key)
            if job is None:
                raise self._busy(tx, request)
            tx.jobs.start(job.id, me)
        reporter = JobReporter(self.store, job.id)

        def report(update) -> None:
            reporter(update)
            if show:
                show(update)

        try:
            with Heartbeat(self.store, job.id, me):
                return improve_and_register(self, plan, job_id=job.id, progress=report,
                                            should_stop=reporter.should_stop, summary=_summary)
        except BaseException as exc:
            with self.store.transaction() as tx:
                if isinstance(exc, DPOCancelled):
                    tx.jobs.cancelled(job.id, "cancelled; no version was registered")
                else:
                    tx.jobs.fail(job.id, f"{type(exc).__name__}: {exc}")
            raise
        finally:
            if show:
                show(None)

    def enqueue(self, request: ImproveRequest) -> JobRecord:
        """Queue an improvement for a worker, after validating it; when one of this contender
        is already queued or running, nothing new is queued and that job is returned."""
        if self.queue is None:
            raise StudioError("this studio has no job queue: improve in the foreground with improve()")
        self.plan(request)
        self._release_abandoned(request)
        with self.store.transaction() as tx:
            job = tx.jobs.create(IMPROVE_KIND, request.to_payload(), active_key=request.active_key)
            if job is None:
                return tx.jobs.holding(request.active_key)
        return self.jobs.send(job.id, IMPROVE_TASK)

    def run_job(self, job_id: int) -> dict[str, Any] | None:
        """Run a queued improvement (the worker's task), mirroring it into its row. Returns
        its metrics; None when it was cancelled, failed, already taken or ended meanwhile
        (then nothing is registered)."""
        from studio.policy.train import DPOCancelled

        me = worker_name()
        with self.store.transaction() as tx:
            if not tx.jobs.start(job_id, me):
                return None
            job = tx.jobs.get(job_id)
        reporter = JobReporter(self.store, job_id)
        try:
            with Heartbeat(self.store, job_id, me):
                plan = self.plan(ImproveRequest.from_payload(job.payload))
                return improve_and_register(self, plan, job_id=job_id, progress=reporter,
                                            should_stop=reporter.should_stop, summary=_summary)
        except ImprovementEnded:
            return None
        except DPOCancelled:
            with self.store.transaction() as tx:
                tx.jobs.cancelled(job_id, "cancelled; no version was registered")
            return None
        except Exception as exc:
            self.jobs.fail(job_id, exc)
            return None

    def holder(self, contender: str) -> JobRecord | None:
        """The improvement of this contender queued or running now, if any."""
        with self.store.reader() as tx:
            return tx.jobs.holding(ImproveRequest(contender).active_key)

    def _release_abandoned(self, request: ImproveRequest) -> None:
        self.jobs.release_held(request.active_key, {IMPROVE_KIND: IMPROVE_TASK})

    @staticmethod
    def _busy(tx, request: ImproveRequest) -> StudioError:
        holder = tx.jobs.holding(request.active_key)
        return StudioError(f"an improvement of {request.contender!r} is already "
                           f"{holder.status if holder else 'running'} (job {holder.id if holder else '?'}): "
                           "wait for it, or cancel it with `studio jobs cancel ID`")


def _summary(metrics: dict[str, Any]) -> str:
    return (f"{metrics['contender']} registered ({metrics['method']} on {metrics['pairs']} pairs, "
            f"{metrics.get('pairs_per_s')} pairs/s)")
