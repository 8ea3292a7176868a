"""The Huey queues of a studio, and the tasks registered on them.

Two queues, one per role, so that a worker takes only the work it is started for
(`studio worker --train`, `--generate`, or both):
- `studio` (TRAIN_ROLE): reward-model trainings (`studio.train_reward_model`);
- `studio-generate` (GENERATE_ROLE): the pool's top-ups (`studio.generate_pool`).

Where the queues live follows `config.queue_url`:
- unset (default): `SqliteHuey` queues in one file in the data dir (`queue.sqlite3`), no server needed;
- `redis://...` / `rediss://...` / `unix://...`: `RedisHuey`, so workers on other machines
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
from studio.services.pool_jobs import GENERATE_TASK, PoolJobs
from studio.services.training import TRAIN_TASK, TrainingService

TRAIN_ROLE, GENERATE_ROLE = "train", "generate"
ROLES = (TRAIN_ROLE, GENERATE_ROLE)
QUEUE_NAMES = {TRAIN_ROLE: "studio", GENERATE_ROLE: "studio-generate"}
ROLE_OF_TASK = {TRAIN_TASK: TRAIN_ROLE, GENERATE_TASK: GENERATE_ROLE}
QUEUE_NAME = QUEUE_NAMES[TRAIN_ROLE]
QUEUE_FILE = "queue.sqlite3"
IMMEDIATE = "immediate"


def is_immediate(config: StudioConfig) -> bool:
    return (config.queue_url or "").strip().lower() in (IMMEDIATE, "memory://")


def make_huey(config: StudioConfig, training: Callable[[], TrainingService] | None = None, *,
              role: str = TRAIN_ROLE, pool_jobs: Callable[[], PoolJobs] | None = None):
    """A Huey instance for one role's queue with its task registered on it. Tasks run on
    `training()` / `pool_jobs()` when given (the caller's own services), else on services
    built from `config` once per process (a worker)."""
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
    if training is None or pool_jobs is None:
        services = WorkerServices(config)
        training = training or services.training
        pool_jobs = pool_jobs or services.pool_jobs
    register_tasks(huey, role, training=training, pool_jobs=pool_jobs)
    return huey


def register_tasks(huey, role: str, *, training: Callable[[], TrainingService],
                   pool_jobs: Callable[[], PoolJobs]) -> None:
    if role == TRAIN_ROLE:
        @huey.task(name=TRAIN_TASK)
        def train_reward_model(job_id: int) -> dict | None:
            return training().run_job(job_id)

        huey.studio_tasks = {TRAIN_TASK: train_reward_model}
    else:
        @huey.task(name=GENERATE_TASK)
        def generate_pool(job_id: int) -> dict | None:
            return pool_jobs().run_job(job_id)

        huey.studio_tasks = {GENERATE_TASK: generate_pool}


class JobQueue:
    """The queues as services see them (`services.jobs.TaskQueue`): send a task (to its role's
    queue), revoke one, list the waiting ones. The Huey instances are made on first use (or
    given: a worker's own)."""

    def __init__(self, config: StudioConfig, training: Callable[[], TrainingService] | None = None, *,
                 pool_jobs: Callable[[], PoolJobs] | None = None, hueys: dict | None = None):
        self.config = config
        immediate = is_immediate(config)
        self._training = training if immediate else None
        self._pool_jobs = pool_jobs if immediate else None
        self._hueys = dict(hueys or {})
        self._lock = threading.Lock()

    def of(self, role: str):
        with self._lock:
            if role not in self._hueys:
                self._hueys[role] = make_huey(self.config, self._training, role=role, pool_jobs=self._pool_jobs)
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
