"""Background jobs: the Huey queue, its tasks, and the worker that runs them.

    from studio.jobs import make_huey, start_worker_process
    huey = make_huey(config)                     # SQLite file, Redis, or immediate mode
    worker = start_worker_process(config)        # `studio worker` in a child process
    worker.stop()

The `jobs` table mirrors every task (status, progress, result, error); read it through
`Studio.jobs()` / `Studio.job(id)`.
"""

from __future__ import annotations

from studio.jobs.queue import is_immediate, make_huey
from studio.jobs.worker import WorkerProcess, recover_abandoned, run_worker, start_worker_process

__all__ = ["WorkerProcess", "is_immediate", "make_huey", "recover_abandoned", "run_worker",
           "start_worker_process"]
