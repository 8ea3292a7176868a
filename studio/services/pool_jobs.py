"""The pool's top-ups as queue tasks, for a studio whose server generates nothing itself
(`[pool] on_workers = true`: a CPU server, GPU workers).

    pool_jobs.enqueue(["default"], min_ready=8)   # the server: one job per prompt set short of items
    pool_jobs.run_job(job_id)                     # a `studio worker --generate`: load, generate, store

One job per prompt set at a time (its row's `active_key` is `pool:<set>`), so a server that
asks every few seconds queues nothing new while a top-up waits or runs. A worker takes the
task only when it can load every enabled contender; one that cannot leaves it for another
worker (sent again after LEAVE_DELAY_S) and writes why into the job's message, which
`studio jobs` shows. A lost task is sent again by any worker's recovery
(`TrainingService.recover`, which knows every kind of job). The items are written by `PoolService.refill` on the worker, exactly as
the server's own pool thread would write them.
"""

from __future__ import annotations

from typing import Any

from studio.config import StudioConfig
from studio.errors import StudioError
from studio.services.generators import NO_CONTENDERS
from studio.services.heartbeat import Heartbeat
from studio.services.jobs import JobBoard, TaskQueue, worker_name
from studio.services.pool import PoolService
from studio.store import Store
from studio.store.jobs import JobRecord

GENERATE_KIND = "generate_pool"            # the jobs table's kind for a pool top-up
GENERATE_TASK = "studio.generate_pool"     # the Huey task (on the generation queue) that runs one
LEAVE_DELAY_S = 5.0                        # a task left by a worker that cannot load comes back after this


def active_key(prompt_set: str) -> str:
    return f"pool:{prompt_set}"


class PoolJobs:
    def __init__(self, store: Store, config: StudioConfig, pool: PoolService, jobs: JobBoard,
                 queue: TaskQueue | None):
        self.store = store
        self.config = config
        self.pool = pool
        self.jobs = jobs
        self.queue = queue

    # -- the server's side -----------------------------------------------------------------

    def enqueue(self, prompt_sets: list[str], *, min_ready: int) -> list[JobRecord]:
        """Queue a top-up for each prompt set that has none queued or running; returns the new jobs."""
        if self.queue is None:
            raise StudioError("this studio has no job queue, so no worker can fill the pool: unset "
                              "[pool] on_workers, or set queue_url")
        made = []
        for prompt_set in prompt_sets:
            with self.store.transaction() as tx:
                job = tx.jobs.create(GENERATE_KIND, {"prompt_set": prompt_set, "min_ready": int(min_ready)},
                                     active_key=active_key(prompt_set))
            if job is None:
                continue
            try:
                task_id = self.queue.send(GENERATE_TASK, job.id)
            except Exception as exc:
                with self.store.transaction() as tx:
                    tx.jobs.fail(job.id, f"could not queue the top-up: {type(exc).__name__}: {exc}")
                raise StudioError(f"cannot reach the job queue ({type(exc).__name__}: {exc}); check queue_url") \
                    from exc
            with self.store.transaction() as tx:
                tx.jobs.set_task_id(job.id, task_id)
                made.append(tx.jobs.get(job.id))
        return made

    # -- a worker's side ---------------------------------------------------------------------

    def run_job(self, job_id: int) -> dict[str, Any] | None:
        """Run a queued top-up here, or leave it for another worker when a contender does not
        load here. Returns {"items", "prompt_set"}; None when left, cancelled or failed."""
        with self.store.reader() as tx:
            job = tx.jobs.get(job_id)
        if job.status != "queued":
            return None
        me = worker_name()
        _, problems = self.pool.generators.for_pool()
        problems.pop(NO_CONTENDERS, None)
        if problems:
            return self._leave(job, me, problems)
        with self.store.transaction() as tx:
            if not tx.jobs.start(job_id, me):
                return None
        prompt_set, wanted = job.payload["prompt_set"], int(job.payload.get("min_ready", self.config.pool.min_ready))
        try:
            with Heartbeat(self.store, job_id, me) as beat:
                made = self.pool.refill(prompt_set, min_ready=wanted, should_stop=lambda: beat.ended)
        except Exception as exc:
            self.jobs.fail(job_id, exc)
            return None
        result = {"items": made, "prompt_set": prompt_set, "worker": me}
        with self.store.transaction() as tx:
            tx.jobs.finish(job_id, result, f"{made} item(s) made for '{prompt_set}' on {me}")
        return result

    def _leave(self, job: JobRecord, me: str, problems: dict[str, str]) -> None:
        why = "; ".join(f"{name}: {reason}" for name, reason in sorted(problems.items()))
        message = f"left for another worker: {me} cannot load {why}"
        task_id = self.queue.send(GENERATE_TASK, job.id, delay=LEAVE_DELAY_S) if self.queue else None
        with self.store.transaction() as tx:
            if task_id is not None:
                tx.jobs.requeued(job.id, task_id, message)
        return None
