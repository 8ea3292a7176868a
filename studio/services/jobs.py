"""The job board: background jobs as the `jobs` table records them (the row, not Huey, is
the record), cancelling them, failing the running ones whose worker is gone, and re-sending
the queued ones whose task the queue lost.

A running job beats (`services.heartbeat`: `worker` = host:pid and `heartbeat_at`, written
every HEARTBEAT_EVERY_S by the process running it, whatever it is doing). A job is failed as
abandoned only when its heartbeat has stopped: silent for STALE_AFTER on any host, or for
DEAD_PROCESS_SILENCE when it runs on this host and its process is gone. A job whose
heartbeat is fresh is never failed, whoever asks (this process included).

A queued job whose task is not in the queue any more (Redis flushed, a crash between the
row and the send) would hold the "one training at a time" key forever: `recover_lost`
sends its task again (running it twice is harmless: a job starts once), or fails it with
the reason when the queue cannot take it.

The queue itself (Huey) lives in `studio.jobs`; services reach it only through the
`TaskQueue` interface handed to them, so nothing here imports the jobs layer.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pandas as pd

from studio.errors import StudioError
from studio.services.heartbeat import HEARTBEAT_EVERY_S
from studio.store import Store
from studio.store.jobs import JobRecord

STALE_AFTER = timedelta(minutes=5)              # no heartbeat for this long: gone, on any host
# This host, its process gone: failed once its last beat is older than one beat interval
# (a beat that recent could still be fresh; an older one cannot be).
DEAD_PROCESS_SILENCE = timedelta(seconds=HEARTBEAT_EVERY_S + 2)
LOST_TASK_GRACE = timedelta(minutes=1)          # a queued job with no task id yet: its send may be under way
# What an abandoned job of each kind leaves behind, for the reason it is failed with.
KEPT_WHEN_ABANDONED = {
    None: "the previous reward model stays active",
    "build_features": "the embeddings it stored are kept: run `studio features build` again to resume",
}


class TaskQueue(Protocol):
    """What services need of the job queue."""

    def send(self, task: str, job_id: int, *, delay: float | None = None) -> str:
        """Queue `task` for the job (to run after `delay` seconds); returns the queue's task id."""

    def revoke(self, task_id: str) -> None:
        """Make sure a queued task never runs."""

    def waiting(self) -> set[str]:
        """The ids of the tasks waiting in the queue."""


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
        """Fail the running jobs whose heartbeat stopped (see the module's rules); returns
        their ids."""
        now = datetime.now(UTC)
        with self.store.reader() as tx:
            running = tx.jobs.running()
        failed = []
        for job_id, kind, worker, beat in running:
            gone, silence = allowed_silence(worker)
            if beat is not None and beat >= now - silence:
                continue
            kept = KEPT_WHEN_ABANDONED.get(kind, KEPT_WHEN_ABANDONED[None])
            if gone:
                reason = f"the worker running this job ({worker}) stopped (killed or crashed); {kept}"
            else:
                reason = (f"the worker running this job ({worker or 'unknown'}) stopped: no heartbeat for over "
                          f"{int(STALE_AFTER.total_seconds() // 60)} minutes (killed, crashed or cut off); {kept}")
            with self.store.transaction() as tx:
                if tx.jobs.fail_if_silent(job_id, since=now - silence, error=reason):
                    failed.append(job_id)
        return failed

    def seconds_until_abandoned(self) -> float | None:
        """Seconds until a running job whose process is gone from this host can be failed
        (its last beat still too recent now; see the module's rules), or None when no job is
        in that state: a worker's recovery looks again then, not only at its next round."""
        now = datetime.now(UTC)
        with self.store.reader() as tx:
            running = tx.jobs.running()
        waits = [wait for _, _, worker, beat in running
                 if (wait := _seconds_until_failable(worker, beat, now)) is not None]
        return max(0.0, min(waits)) if waits else None

    def recover_lost(self, tasks: Mapping[str, str]) -> list[int]:
        """Send again the task of every queued job the queue does not hold (`tasks`: job
        kind -> task name); a job that cannot be sent is failed with the reason. Returns
        the ids of the jobs seen to."""
        if self.queue is None:
            return []
        with self.store.reader() as tx:
            queued = tx.jobs.queued()
        if not queued:
            return []
        waiting = self.queue.waiting()
        now = datetime.now(UTC)
        seen_to = []
        for job in queued:
            if job.task_id is not None and job.task_id in waiting:
                continue
            if job.task_id is None and _aware(job.created_at) > now - LOST_TASK_GRACE:
                continue
            seen_to.append(job.id)
            task = tasks.get(job.kind)
            try:
                if task is None:
                    raise LookupError(f"no task runs jobs of kind {job.kind!r}")
                task_id = self.queue.send(task, job.id)
            except Exception as exc:
                with self.store.transaction() as tx:
                    tx.jobs.fail(job.id, f"its queued task was lost and could not be sent again "
                                         f"({type(exc).__name__}: {exc}); queue it again")
                continue
            with self.store.transaction() as tx:
                tx.jobs.requeued(job.id, task_id, "queued again: its task was missing from the queue "
                                                  "(flushed, or lost in a crash)")
        return seen_to

    def send(self, job_id: int, task: str) -> JobRecord:
        """Send a new queued job's task and record its task id; when the queue cannot take
        it, the job is failed (so it holds no `active_key`) and one line says what to check."""
        try:
            task_id = self.queue.send(task, job_id)
        except Exception as exc:
            with self.store.transaction() as tx:
                tx.jobs.fail(job_id, f"could not queue the job: {type(exc).__name__}: {exc}")
            raise StudioError(f"cannot reach the job queue ({type(exc).__name__}: {exc}); "
                              "check queue_url in studio.toml, or unset it to use a SQLite queue") from exc
        with self.store.transaction() as tx:
            tx.jobs.set_task_id(job_id, task_id)
            return tx.jobs.get(job_id)

    def fail(self, job_id: int, exc: BaseException) -> None:
        """Record why a job's run raised: the error's line, and for a bug (not a StudioError,
        which already says what to do) the last frames of its traceback."""
        detail = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, StudioError):
            detail += "\n" + traceback.format_exc(limit=8)
        with self.store.transaction() as tx:
            tx.jobs.fail(job_id, detail)

    def release_held(self, active_key: str, tasks: Mapping[str, str]) -> None:
        """The job holding `active_key` must not block a new request when its process died
        (running, silent) or its task was lost (queued): fail or re-send it as the recovery
        does. An unreachable queue is left for the caller's send to report."""
        with self.store.reader() as tx:
            holder = tx.jobs.holding(active_key)
        if holder is None:
            return
        if holder.status == "running":
            # killed and asked again at once: wait out the dead holder's last beat (a few
            # seconds) so this request takes over instead of being refused
            wait = _seconds_until_failable(holder.worker, holder.heartbeat_at, datetime.now(UTC))
            if wait is not None and 0 < wait <= DEAD_PROCESS_SILENCE.total_seconds():
                time.sleep(wait + 0.05)
            self.recover_abandoned()
            return
        try:
            self.recover_lost(tasks)
        except Exception:  # the queue is unreachable: enqueue says so when it sends
            pass



def _seconds_until_failable(worker: str | None, beat: datetime | None, now: datetime) -> float | None:
    """Seconds until a job whose process is gone from this host may be failed (negative: it
    may be now), or None when its process is not known to be gone or it never beat."""
    gone, silence = allowed_silence(worker)
    if not gone or beat is None:
        return None
    beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
    return (beat + silence - now).total_seconds()


def allowed_silence(worker: str | None) -> tuple[bool, timedelta]:
    """(whether the job's process is gone from this host, how long its heartbeat may be silent
    before the job is failed): the module's two rules, in one place."""
    gone = process_gone_here(worker)
    return gone, DEAD_PROCESS_SILENCE if gone else STALE_AFTER


def process_gone_here(worker: str | None) -> bool:
    """Whether `worker` (host:pid) names a process of this host that no longer exists (this
    process is alive, whatever threads it runs)."""
    if not worker:
        return False
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    return not _process_exists(int(pid))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
