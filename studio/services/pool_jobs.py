"""The pool's top-ups as queue tasks, for a studio whose server generates nothing itself
(`[pool] on_workers = true`: a CPU server, GPU workers).

    pool_jobs.top_up(["default"], min_ready=8)   # the server: pairs stored outputs, then one job
                                                 # per (prompt set, contender) with outputs to make
    pool_jobs.run_job(job_id)                    # a `studio worker --generate`: load that one
                                                 # contender, generate, store, pair

A top-up is one task per contender, so a worker that can load one model (a GPU box with the
image pipeline, another with the LLM) takes that contender's tasks and no others. One job per
prompt set and contender at a time (its row's `active_key` is `pool:<set>:<contender id>`),
so a server that asks every few seconds queues nothing new while a top-up waits or runs. A
worker that cannot load the contender leaves the task for another (sent again after
LEAVE_DELAY_S) and writes why into the job's message, which `studio jobs` shows. Outputs are
stored batch by batch, and after each batch the items whose sides are all stored are made
(`PoolService.pair_existing`, serialised across machines), so the first pair comes as soon
as both of its sides exist. A lost task is sent again by any worker's recovery
(`TrainingService.recover`, which knows every kind of job).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from studio.config import StudioConfig
from studio.errors import StudioError
from studio.generation.base import Generator, Stopped
from studio.services.generators import spec_of
from studio.services.heartbeat import Heartbeat
from studio.services.jobs import JobBoard, TaskQueue, worker_name
from studio.services.pool import PoolService, chunks
from studio.store import Store
from studio.store.jobs import JobRecord

GENERATE_KIND = "generate_pool"            # the jobs table's kind for a pool top-up
GENERATE_TASK = "studio.generate_pool"     # the Huey task (on the generation queue) that runs one
LEAVE_DELAY_S = 5.0                        # a task left by a worker that cannot load comes back after this


def active_key(prompt_set: str, contender_id: int) -> str:
    return f"pool:{prompt_set}:{contender_id}"


class PoolJobs:
    def __init__(self, store: Store, config: StudioConfig, pool: PoolService, jobs: JobBoard,
                 queue: TaskQueue | None):
        self.store = store
        self.config = config
        self.pool = pool
        self.jobs = jobs
        self.queue = queue

    # -- the server's side -----------------------------------------------------------------

    def top_up(self, prompt_sets: list[str], *, min_ready: int) -> int:
        """Pair what is stored, then queue a job for each contender with outputs to make (one
        that has one queued or running already is skipped); returns the items made here."""
        if self.queue is None:
            raise StudioError("this studio has no job queue, so no worker can fill the pool: unset "
                              "[pool] on_workers, or set queue_url")
        made = 0
        for prompt_set in prompt_sets:
            paired, missing = self.pool.pair_and_list_missing(prompt_set, min_ready=min_ready)
            made += paired
            for contender_id in missing:
                self._enqueue(prompt_set, contender_id, min_ready)
        return made

    def _enqueue(self, prompt_set: str, contender_id: int, min_ready: int) -> JobRecord | None:
        with self.store.transaction() as tx:
            contender = tx.contenders.by_id(contender_id)
            job = tx.jobs.create(GENERATE_KIND, {"prompt_set": prompt_set, "contender_id": contender_id,
                                                 "contender": contender.name, "min_ready": int(min_ready)},
                                 active_key=active_key(prompt_set, contender_id))
        if job is None:
            return None
        return self.jobs.send(job.id, GENERATE_TASK)

    # -- a worker's side ---------------------------------------------------------------------

    def run_job(self, job_id: int) -> dict[str, Any] | None:
        """Run a queued top-up here, or leave it for another worker when its contender does
        not load here. Returns {"outputs", "items", ...}; None when left, cancelled or failed."""
        with self.store.reader() as tx:
            job = tx.jobs.get(job_id)
            contender = tx.contenders.by_id(job.payload["contender_id"]) if "contender_id" in job.payload else None
        if job.status != "queued":
            return None
        me = worker_name()
        if contender is None or not contender.enabled:
            why = "the contender is disabled or gone" if "contender_id" in job.payload else \
                "queued by an older studio for a whole prompt set; the server queues it again per contender"
            with self.store.transaction() as tx:
                if tx.jobs.start(job_id, me):
                    tx.jobs.finish(job_id, {"outputs": 0, "items": 0}, f"nothing done: {why}")
            return None
        try:
            # (a load that failed here within the last minute is not tried again: the task
            # comes back every few seconds while no worker can take it)
            generator = self.pool.generators.load(spec_of(contender))
        except StudioError as exc:
            return self._leave(job, me, contender.name, str(exc))
        with self.store.transaction() as tx:
            if not tx.jobs.start(job_id, me):
                return None
        prompt_set = job.payload["prompt_set"]
        wanted = int(job.payload.get("min_ready", self.config.pool.min_ready))
        try:
            with Heartbeat(self.store, job_id, me) as beat:
                outputs, items = self._generate(contender.id, generator, prompt_set, wanted,
                                                lambda: beat.ended or self._stop_asked(job_id))
        except Stopped:
            with self.store.transaction() as tx:     # the outputs already stored stay, for later pairs
                tx.jobs.cancelled(job_id, "cancelled; the outputs stored so far are kept for later pairs")
            return None
        except Exception as exc:
            self.jobs.fail(job_id, exc)
            return None
        result = {"outputs": outputs, "items": items, "prompt_set": prompt_set, "contender": contender.name,
                  "worker": me}
        with self.store.transaction() as tx:
            tx.jobs.finish(job_id, result, f"{outputs} output(s) of {contender.name} and {items} item(s) "
                                           f"made for '{prompt_set}' on {me}")
        return result

    def _generate(self, contender_id: int, generator: Generator, prompt_set: str, wanted: int,
                  should_stop: Callable[[], bool]) -> tuple[int, int]:
        """This contender's missing outputs for the set, batch by batch, each batch stored and
        paired before the next is generated."""
        needed = self.pool.missing_outputs(prompt_set, min_ready=wanted).get(contender_id, [])
        with self.store.reader() as tx:
            empty = tx.items.ready_count(prompt_set) == 0
        outputs = items = 0
        batch = max(1, self.config.pool.batch_size)
        for part in chunks(needed, batch, empty=empty):
            made = generator.generate(self.pool.requests_for(part), batch_size=batch, should_stop=should_stop)
            if should_stop():
                raise Stopped()
            outputs += len(self.pool.store_outputs(contender_id, made))
            items += self.pool.pair_existing(prompt_set, min_ready=wanted)
        return outputs, items

    def _stop_asked(self, job_id: int) -> bool:
        with self.store.reader() as tx:
            return tx.jobs.cancel_requested(job_id)

    def _leave(self, job: JobRecord, me: str, contender: str, why: str) -> None:
        message = f"left for another worker: {me} cannot load {contender}: {why}"
        task_id = self.queue.send(GENERATE_TASK, job.id, delay=LEAVE_DELAY_S) if self.queue else None
        with self.store.transaction() as tx:
            if task_id is not None:
                tx.jobs.requeued(job.id, task_id, message)
        return None
