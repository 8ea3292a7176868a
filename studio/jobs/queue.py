"""The Huey instance for a studio, and the tasks registered on it.

Where the queue lives follows `config.queue_url`:
- unset (default): a `SqliteHuey` file in the data dir (`queue.sqlite3`), no server needed;
- `redis://...` / `rediss://...` / `unix://...`: a `RedisHuey`, so workers on other machines
  (a GPU box) can take the jobs;
- `immediate`: Huey's immediate mode, tasks run inline in the caller (notebooks, tests).

Tasks carry only a job id: the job's row in the `jobs` table holds what to do, and the
worker's own config says which database to read it from.
"""

from __future__ import annotations

from studio.config import StudioConfig
from studio.errors import ConfigError

QUEUE_NAME = "studio"
QUEUE_FILE = "queue.sqlite3"
IMMEDIATE = "immediate"
TRAIN_TASK = "studio.train_reward_model"


def is_immediate(config: StudioConfig) -> bool:
    return (config.queue_url or "").strip().lower() in (IMMEDIATE, "memory://")


def make_huey(config: StudioConfig, studio=None):
    """A Huey instance for this config, with the studio's tasks registered on it. Tasks run
    on `studio` when given (immediate mode: the caller's own instance), otherwise each task
    opens the studio from `config` (a worker)."""
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
    register_tasks(huey, config, studio)
    return huey


def register_tasks(huey, config: StudioConfig, studio=None) -> None:
    @huey.task(name=TRAIN_TASK)
    def train_reward_model(job_id: int) -> dict | None:
        from studio.jobs.training import run_job

        return run_job(studio if studio is not None else config, job_id)

    huey.studio_tasks = {TRAIN_TASK: train_reward_model}
