"""Background work: the Huey queue and its tasks, the worker process that runs them, and
the thread that keeps the pool of ready pairs topped up. Tasks and workers build the
services they need from a config; they never build a `Studio`.

    from studio.jobs import make_huey, start_worker_process
    huey = make_huey(config)                     # SQLite file, Redis, or immediate mode
    worker = start_worker_process(config)        # `studio worker` in a child process
    worker.stop()

The `jobs` table mirrors every task (status, progress, result, error); read it through
`Studio.jobs()` / `Studio.job(id)`.
"""

from __future__ import annotations

from studio.jobs.pool_worker import PoolWorker
from studio.jobs.queue import JobQueue, is_immediate, make_huey
from studio.jobs.tasks import WorkerServices, run_training_job
from studio.jobs.worker import WorkerProcess, run_worker, start_worker_process

__all__ = ["JobQueue", "PoolWorker", "WorkerProcess", "WorkerServices", "is_immediate", "make_huey",
           "run_training_job", "run_worker", "start_worker_process"]
