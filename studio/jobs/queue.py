"""The Huey queue of a studio, and the tasks registered on it.

Where the queue lives follows `config.queue_url`:
- unset (default): a `SqliteHuey` file in the data dir (`queue.sqlite3`), no server needed;
- `redis://...` / `rediss://...` / `unix://...`: a `RedisHuey`, so workers on other machines
  (a GPU box) can take the jobs;
- `immediate`: Huey's immediate mode, tasks run inline in the caller (notebooks, tests).

Tasks carry only a job id: the job's row in the `jobs` table holds what to do. A worker's
tasks run on services built from its own config (`WorkerServices`); in immediate mode they
run on the caller's own services.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from studio.config import StudioConfig
from studio.errors import ConfigError
from studio.jobs.tasks import WorkerServices
from studio.services.improvement import IMPROVE_TASK, ImprovementService
from studio.services.training import TRAIN_TASK, TrainingService

QUEUE_NAME = "studio"
QUEUE_FILE = "queue.sqlite3"
IMMEDIATE = "immediate"


def is_immediate(config: StudioConfig) -> bool:
    return (config.queue_url or "").strip().lower() in (IMMEDIATE, "memory://")


def make_huey(config: StudioConfig, training: Callable[[], TrainingService] | None = None,
              improvement: Callable[[], ImprovementService] | None = None):
    """A Huey instance for this config with the studio's tasks registered on it. Tasks run on
    `training()` / `improvement()` when given (the caller's own services), else on services
    built from `config` once per process (a worker)."""
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    url = (config.queue_url or "").strip()
    if is_immediate(config):
        huey = MemoryHuey(QUEUE_NAME, immediate=True)
    elif not url:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(QUEUE_NAME, filename=str(config.data_dir / QUEUE_FILE), timeout=30)
    elif url.startswith(("redis://", "rediss://", "unix://")):
        huey = RedisHuey(QUEUE_NAME, url=url)
    else:
        raise ConfigError(f"queue_url {url!r} is not supported: leave it unset (a SQLite queue in the data "
                          "dir), use redis://host:port/db, or 'immediate' to run jobs inline")
    services = None if training and improvement else WorkerServices(config)
    register_tasks(huey, training or services.training, improvement or services.improvement)
    return huey


def register_tasks(huey, training: Callable[[], TrainingService],
                   improvement: Callable[[], ImprovementService] | None = None) -> None:
    @huey.task(name=TRAIN_TASK)
    def train_reward_model(job_id: int) -> dict | None:
        return training().run_job(job_id)

    huey.studio_tasks = {TRAIN_TASK: train_reward_model}
    if improvement is not None:
        @huey.task(name=IMPROVE_TASK)
        def improve_contender(job_id: int) -> dict | None:
            return improvement().run_job(job_id)

        huey.studio_tasks[IMPROVE_TASK] = improve_contender


class JobQueue:
    """The queue as services see it (`services.jobs.TaskQueue`): send a task, revoke one,
    list the waiting ones. The Huey instance is made on first use (or given: a worker's own)."""

    def __init__(self, config: StudioConfig, training: Callable[[], TrainingService] | None = None, *,
                 huey=None, improvement: Callable[[], ImprovementService] | None = None):
        self.config = config
        self._training = training if is_immediate(config) else None
        self._improvement = improvement if is_immediate(config) else None
        self._huey = huey
        self._lock = threading.Lock()

    @property
    def huey(self):
        with self._lock:
            if self._huey is None:
                self._huey = make_huey(self.config, self._training, self._improvement)
            return self._huey

    def send(self, task: str, job_id: int) -> str:
        return self.huey.studio_tasks[task](job_id).id

    def revoke(self, task_id: str) -> None:
        self.huey.revoke_by_id(task_id)

    def waiting(self) -> set[str]:
        """Ids of the tasks waiting in the queue (pending, or scheduled for later)."""
        huey = self.huey
        return {task.id for task in huey.pending()} | {task.id for task in huey.scheduled()}
