"""The job board: background jobs as the `jobs` table records them (the row, not Huey, is
the record), cancelling them, and failing the ones a dead worker left running.

The queue itself (Huey) lives in `studio.jobs`; services reach it only through the
`TaskQueue` interface handed to them, so nothing here imports the jobs layer.
"""

from __future__ import annotations

import os
import socket
from datetime import timedelta
from typing import Protocol

import pandas as pd

from studio.store import Store
from studio.store.jobs import JobRecord

STALE_AFTER = timedelta(minutes=15)


class TaskQueue(Protocol):
    """What services need of the job queue."""

    def send(self, task: str, job_id: int) -> str:
        """Queue `task` for the job; returns the queue's task id."""

    def revoke(self, task_id: str) -> None:
        """Make sure a queued task never runs."""


def worker_name() -> str:
    """This process as a job's `worker`: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


class JobBoard:
    def __init__(self, store: Store, queue: TaskQueue | None = None):
        self.store = store
        self.queue = queue

    def frame(self, *, limit: int | None = None, kind: str | None = None) -> pd.DataFrame:
        with self.store.reader() as tx:
            return tx.jobs.frame(limit=limit, kind=kind)

    def get(self, job_id: int) -> JobRecord:
        with self.store.reader() as tx:
            return tx.jobs.get(int(job_id))

    def cancel(self, job_id: int) -> JobRecord:
        """A queued job never runs; a running one stops at its next step."""
        with self.store.transaction() as tx:
            job = tx.jobs.request_cancel(int(job_id))
        if job.task_id and job.status == "cancelled" and self.queue is not None:
            try:
                self.queue.revoke(job.task_id)
            except Exception:  # the row already says cancelled; the worker checks it first
                pass
        return job

    def recover_abandoned(self) -> list[int]:
        """Fail the jobs that dead workers left running (on this host: their process is gone;
        anywhere: silent for longer than STALE_AFTER); returns their ids."""
        with self.store.transaction() as tx:
            dead = dead_workers_here(tx.jobs.running_workers())
            return tx.jobs.fail_abandoned(dead_workers=dead, stale_after=STALE_AFTER)


def dead_workers_here(names: list[str]) -> set[str]:
    """Workers named `host:pid` on this host whose process no longer exists."""
    host = worker_name().rsplit(":", 1)[0]
    dead = set()
    for name in names:
        worker_host, _, pid = name.rpartition(":")
        if worker_host != host or not pid.isdigit():
            continue
        if int(pid) == os.getpid() or not _process_exists(int(pid)):
            dead.add(name)
    return dead


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
