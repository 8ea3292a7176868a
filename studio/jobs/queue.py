"""The Huey queues of a studio, and the tasks registered on them.

Two queues, one per role, so that a worker takes only the work it is started for
(`studio worker --train`, `--generate`, or both):
- `studio` (TRAIN_ROLE): reward-model trainings (`studio.train_reward_model`), contender
  improvements (`studio.improve_contender`: DPO needs the same kind of machine) and feature
  cache builds (`studio.build_features`);
- `studio-generate` (GENERATE_ROLE): the pool's top-ups (`studio.generate_pool`).

Where the queues live follows `config.queue_url`:
- unset (default): `SqliteHuey` queues in one file in the data dir (`queue.sqlite3`), no server needed;
- `redis://...` / `rediss://...` / `unix://...`: `RedisHuey`, so workers on other machines
  (a GPU box) can take the jobs;
- `immediate`: Huey's immediate mode, tasks run inline in the caller (notebooks, tests).

Tasks carry only a job id: the job's row in the `jobs` table holds what to do. A worker's
tasks run on services built from its own config (`WorkerServices`); in immediate mode they
run on the caller's own services (any `TaskServices`).
"""

from __future__ import annotations

import threading
from typing import Protocol

from studio.config import StudioConfig
from studio.errors import ConfigError
from studio.jobs.tasks import WorkerServices
from studio.services.features import FEATURES_TASK, FeatureService
from studio.services.improvement import IMPROVE_TASK, ImprovementService
from studio.services.pool_jobs import GENERATE_TASK, PoolJobs
from studio.services.training import TRAIN_TASK, TrainingService

TRAIN_ROLE, GENERATE_ROLE = "train", "generate"
ROLES = (TRAIN_ROLE, GENERATE_ROLE)
QUEUE_NAMES = {TRAIN_ROLE: "studio", GENERATE_ROLE: "studio-generate"}
ROLE_OF_TASK = {TRAIN_TASK: TRAIN_ROLE, IMPROVE_TASK: TRAIN_ROLE, FEATURES_TASK: TRAIN_ROLE,
                GENERATE_TASK: GENERATE_ROLE}
QUEUE_NAME = QUEUE_NAMES[TRAIN_ROLE]
QUEUE_FILE = "queue.sqlite3"
IMMEDIATE = "immediate"


def is_immediate(config: StudioConfig) -> bool:
    return (config.queue_url or "").strip().lower() in (IMMEDIATE, "memory://")


class TaskServices(Protocol):
    """Where a queue's tasks find the services they run on: a worker's `WorkerServices`, or
    the caller's own (a `Studio` in immediate mode)."""

    def training(self) -> TrainingService: ...
    def improvement(self) -> ImprovementService: ...
    def pool_jobs(self) -> PoolJobs: ...
    def features(self) -> FeatureService: ...


def make_huey(config: StudioConfig, services: TaskServices | None = None, *, role: str = TRAIN_ROLE):
    """A Huey instance for one role's queue with its tasks registered on it. Tasks run on
    `services` when given (the caller's own), else on services built from `config` once per
    process (a worker)."""
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    url = (config.queue_url or "").strip()
    name = QUEUE_NAMES[role]
    if is_immediate(config):
        huey = MemoryHuey(name, immediate=True)
    elif not url:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(name, filename=str(config.data_dir / QUEUE_FILE), timeout=30)
    elif url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey(name, url=url)
    else:
        raise ConfigError(f"queue_url {url!r} is not supported: leave it unset (a SQLite queue in the data "
                          "dir), use redis://host:port/db, or 'immediate' to run jobs inline")
    register_tasks(huey, role, services or WorkerServices(config))
    return huey


def register_tasks(huey, role: str, services: TaskServices) -> None:
    if role == TRAIN_ROLE:
        @huey.task(name=TRAIN_TASK)
        def train_reward_model(job_id: int) -> dict | None:
            return services.training().run_job(job_id)

        @huey.task(name=IMPROVE_TASK)
        def improve_contender(job_id: int) -> dict | None:
            return services.improvement().run_job(job_id)

        @huey.task(name=FEATURES_TASK)
        def build_features(job_id: int) -> dict | None:
            return services.features().run_job(job_id)

        huey.studio_tasks = {TRAIN_TASK: train_reward_model, IMPROVE_TASK: improve_contender,
                             FEATURES_TASK: build_features}
    else:
        @huey.task(name=GENERATE_TASK)
        def generate_pool(job_id: int) -> dict | None:
            return services.pool_jobs().run_job(job_id)

        huey.studio_tasks = {GENERATE_TASK: generate_pool}


class JobQueue:
    """The queues as services see them (`services.jobs.TaskQueue`): send a task (to its role's
    queue), revoke one, list the waiting ones. The Huey instances are made on first use (or
    given: a worker's own)."""

    def __init__(self, config: StudioConfig, services: TaskServices | None = None, *, hueys: dict | None = None):
        self.config = config
        self._services = services if is_immediate(config) else None
        self._hueys = dict(hueys or {})
        self._lock = threading.Lock()

    def of(self, role: str):
        with self._lock:
            if role not in self._hueys:
                self._hueys[role] = make_huey(self.config, self._services, role=role)
            return self._hueys[role]

    @property
    def huey(self):
        """The trainings' queue (Huey)."""
        return self.of(TRAIN_ROLE)

    def send(self, task: str, job_id: int, *, delay: float | None = None) -> str:
        huey = self.of(ROLE_OF_TASK[task])
        function = huey.studio_tasks[task]
        result = function.schedule((job_id,), delay=delay) if delay else function(job_id)
        return result.id

    def revoke(self, task_id: str) -> None:
        for role in ROLES:
            self.of(role).revoke_by_id(task_id)

    def waiting(self) -> set[str]:
        """Ids of the tasks waiting in the queues (pending, or scheduled for later)."""
        found: set[str] = set()
        for role in ROLES:
            huey = self.of(role)
            found |= {task.id for task in huey.pending()} | {task.id for task in huey.scheduled()}
        return found
