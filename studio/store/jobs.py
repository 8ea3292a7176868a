"""Jobs: the database mirror of background tasks (status, progress, result, error).

A job moves one way only: queued -> running -> done | failed | cancelled (a queued job may
also fail or be cancelled before it runs). Every transition is one conditional UPDATE on
the status it leaves, so a job ends once: a late writer (a training finishing after the
reaper failed it, a cancel racing a finish) changes nothing and is told so (False).

`active_key` is set while a job is queued or running and cleared when it ends; its unique
index means a second job with the same key (e.g. "train_reward_model") cannot be created
while the first is alive: "never two trainings at once" holds across processes and machines.

`worker` ("host:pid") and `heartbeat_at` are the running job's heartbeat, written by the
process running it every few seconds whatever the job is doing (`services.heartbeat`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import or_, select, update

from studio.errors import NotFoundError
from studio.store.schema import Job, utcnow
from studio.store.sql import Repo, insert_ignoring, to_record

ALIVE = ("queued", "running")
COLUMNS = ["id", "kind", "status", "progress", "step", "total_steps", "eta_s", "message", "error",
           "payload", "result", "worker", "cancel_requested", "created_at", "started_at", "heartbeat_at",
           "finished_at"]


@dataclass(frozen=True)
class JobRecord:
    id: int
    kind: str
    status: str
    progress: float
    step: int
    total_steps: int | None
    eta_s: float | None
    message: str
    payload: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    task_id: str | None
    active_key: str | None
    worker: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @property
    def alive(self) -> bool:
        return self.status in ALIVE

    def _repr_html_(self) -> str:
        from html import escape

        fields = ["id", "kind", "status", "progress", "step", "total_steps", "eta_s", "message", "error",
                  "result", "worker", "created_at", "finished_at"]
        rows = "".join(f"<tr><td>{name}</td><td>{escape(_fmt(getattr(self, name)))}</td></tr>" for name in fields)
        return f"<b>Job {self.id}</b> ({escape(self.kind)}, {escape(self.status)})<table>{rows}</table>"


def _text(value: str) -> str:
    """A message as the database can store it: a file name that is not valid UTF-8 (a lone
    surrogate from the file system) is written as its escape, a NUL as U+FFFD."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\ufffd")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):     # a result: its scalar metrics, readable ("heldout_accuracy: 0.612, ...")
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items() if isinstance(v, str | int | float | bool))
    return "" if value is None else str(value)


class JobRepo(Repo):
    def create(self, kind: str, payload: dict[str, Any], *, active_key: str | None = None) -> JobRecord | None:
        """A new queued job; None when another live job holds `active_key`."""
        now = utcnow()
        values = {"kind": kind, "status": "queued", "payload": payload, "active_key": active_key,
                  "created_at": now, "progress": 0.0, "step": 0, "message": "queued",
                  "cancel_requested": False}
        if active_key is None:
            row = Job(**values)
            self.session.add(row)
            self.session.flush()
            return to_record(JobRecord, row)
        statement = insert_ignoring(self.session, Job.__table__, ["active_key"]).values(**values)
        new_id = self.session.execute(statement.returning(Job.__table__.c.id)).scalar_one_or_none()
        return self.get(new_id) if new_id is not None else None

    def get(self, job_id: int) -> JobRecord:
        row = self.session.get(Job, job_id)
        if row is None:
            raise NotFoundError(f"no job with id {job_id}: see `studio jobs`")
        self.session.refresh(row)
        return to_record(JobRecord, row)

    def latest(self, kind: str) -> JobRecord | None:
        """The newest job of one kind."""
        row = self.session.scalars(select(Job).where(Job.kind == kind).order_by(Job.id.desc()).limit(1)).first()
        return to_record(JobRecord, row) if row else None

    def holding(self, active_key: str) -> JobRecord | None:
        row = self.session.scalars(select(Job).where(Job.active_key == active_key)).one_or_none()
        return to_record(JobRecord, row) if row else None

    def frame(self, *, limit: int | None = None, kind: str | None = None) -> pd.DataFrame:
        query = select(*(getattr(Job, c) for c in COLUMNS)).order_by(Job.id.desc())
        if kind is not None:
            query = query.where(Job.kind == kind)
        if limit is not None:
            query = query.limit(limit)
        result = self.session.execute(query)
        return pd.DataFrame(result.fetchall(), columns=COLUMNS)

    def set_task_id(self, job_id: int, task_id: str) -> bool:
        """The queue's id of a queued job's task (the first one, or a re-sent one)."""
        done = self.session.execute(update(Job).where(Job.id == job_id, Job.status == "queued")
                                    .values(task_id=task_id))
        return done.rowcount == 1

    def start(self, job_id: int, worker: str) -> bool:
        """queued -> running; False when the job was cancelled (or already taken)."""
        now = utcnow()
        done = self.session.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued", Job.cancel_requested.is_(False))
            .values(status="running", worker=worker, started_at=now, heartbeat_at=now, message="started"))
        return done.rowcount == 1

    def report(self, job_id: int, *, step: int, total_steps: int | None, eta_s: float | None,
               message: str) -> bool:
        """Progress and a heartbeat; returns whether the job should stop (a cancel was
        requested, or the job is no longer running: failed by a reaper, cancelled)."""
        fraction = min(1.0, step / total_steps) if total_steps else 0.0
        self.session.execute(update(Job).where(Job.id == job_id, Job.status == "running")
                             .values(step=step, total_steps=total_steps, eta_s=eta_s, message=_text(message[:2000]),
                                     progress=fraction, heartbeat_at=utcnow()))
        return self.should_stop(job_id)

    def beat(self, job_id: int, worker: str) -> bool:
        """The heartbeat of a running job, from the process running it; False when the job
        is no longer running there (it ended, or another process took it)."""
        done = self.session.execute(update(Job).where(Job.id == job_id, Job.status == "running",
                                                      Job.worker == worker).values(heartbeat_at=utcnow()))
        return done.rowcount == 1

    def cancel_requested(self, job_id: int) -> bool:
        return bool(self.session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))

    def should_stop(self, job_id: int) -> bool:
        """A cancel was requested, or the job is not running any more."""
        row = self.session.execute(select(Job.status, Job.cancel_requested).where(Job.id == job_id)).one_or_none()
        return row is None or row.status != "running" or bool(row.cancel_requested)

    def finish(self, job_id: int, result: dict[str, Any], message: str = "done") -> bool:
        """running -> done; False (and nothing written) when the job had already ended."""
        return self._end(job_id, "done", ("running",), result=result, message=message, progress=1.0)

    def fail(self, job_id: int, error: str) -> bool:
        """queued or running -> failed; False when it had already ended."""
        return self._end(job_id, "failed", ALIVE, error=_text(error[:4000]), message="failed")

    def cancelled(self, job_id: int, message: str = "cancelled") -> bool:
        """queued or running -> cancelled; False when it had already ended."""
        return self._end(job_id, "cancelled", ALIVE, message=message)

    def request_cancel(self, job_id: int) -> JobRecord:
        """A queued job ends now; a running one is asked to stop at its next step."""
        job = self.get(job_id)
        if job.status == "queued":
            self.cancelled(job_id, "cancelled before it started")
        elif job.status == "running":
            self.session.execute(update(Job).where(Job.id == job_id, Job.status == "running")
                                 .values(cancel_requested=True, message="cancelling"))
        return self.get(job_id)

    def running(self) -> list[tuple[int, str, str | None, datetime | None]]:
        """(id, kind, worker, last heartbeat) of every running job."""
        rows = self.session.execute(select(Job.id, Job.kind, Job.worker, Job.heartbeat_at)
                                    .where(Job.status == "running"))
        return [(job_id, kind, worker, _aware(beat) if beat else None) for job_id, kind, worker, beat in rows]

    def fail_if_silent(self, job_id: int, *, since: datetime, error: str) -> bool:
        """Fail a running job unless it beat at or after `since` (checked in the same
        UPDATE, so a beat arriving meanwhile keeps it alive)."""
        done = self.session.execute(
            update(Job).where(Job.id == job_id, Job.status == "running",
                              or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < since))
            .values(status="failed", active_key=None, finished_at=utcnow(), message="failed", eta_s=None,
                    error=_text(error[:4000])))
        return done.rowcount == 1

    def queued(self, *, created_before: datetime | None = None) -> list[JobRecord]:
        """Queued jobs, oldest first (created before a moment, when given)."""
        query = select(Job).where(Job.status == "queued").order_by(Job.id)
        if created_before is not None:
            query = query.where(Job.created_at < created_before)
        return [to_record(JobRecord, row) for row in self.session.scalars(query)]

    def requeued(self, job_id: int, task_id: str, message: str) -> bool:
        """A queued job whose task was re-sent: its new task id and why."""
        done = self.session.execute(update(Job).where(Job.id == job_id, Job.status == "queued")
                                    .values(task_id=task_id, message=_text(message[:2000])))
        return done.rowcount == 1

    def recent_payloads(self, kind: str, limit: int = 50) -> list[dict[str, Any]]:
        """The payloads of the newest jobs of one kind, newest first."""
        return [payload or {} for payload in self.session.scalars(
            select(Job.payload).where(Job.kind == kind).order_by(Job.id.desc()).limit(limit))]

    def _end(self, job_id: int, status: str, leaving: tuple[str, ...], *, result=None, error=None,
             message: str = "", progress: float | None = None) -> bool:
        values: dict[str, Any] = {"status": status, "active_key": None, "finished_at": utcnow(),
                                  "message": message, "eta_s": None}
        if result is not None:
            values["result"] = result
        if error is not None:
            values["error"] = error
        if progress is not None:
            values["progress"] = progress
        done = self.session.execute(update(Job).where(Job.id == job_id, Job.status.in_(leaving)).values(**values))
        return done.rowcount == 1


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
