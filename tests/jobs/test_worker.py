"""Real worker processes: one consuming a real redis-server trains and registers a version.
(A worker killed mid-job: tests/reliability/test_worker_crash.py for a training on PostgreSQL
and Redis; tests/rewards/test_feature_build.py and tests/policy/test_improve.py on SQLite.)"""

from __future__ import annotations

import os

import pytest

from studio.jobs import start_worker_process
from studio.jobs.worker import worker_command
from tests.jobs.crash import wait_for
from tests.rewards.helpers import add_marker_votes


@pytest.mark.slow
@pytest.mark.redis
def test_a_worker_on_redis_trains_and_activates_a_version(open_sqlite_studio, tiny_encoder, redis_server,
                                                          tmp_path):
    studio = open_sqlite_studio(queue_url=redis_server.url, heldout_fraction=0.5)
    studio.queue.flush()
    add_marker_votes(studio, prompts=24)
    worker = start_worker_process(studio.config, log_file=tmp_path / "worker.log")
    try:
        job = studio.enqueue_training(backbone=tiny_encoder, max_length=32)

        def finished():
            """the Redis worker to finish the job"""
            return studio.job(job.id).status in ("done", "failed")
        wait_for(finished)
    finally:
        worker.stop()
    done = studio.job(job.id)
    assert done.status == "done", (done.error, (tmp_path / "worker.log").read_text()[-2000:])
    assert done.worker and done.worker.endswith(f":{worker.pid}")
    # the worker's version is registered with its gate decision (activation is the gate's business)
    registered = studio.reward_models()
    assert registered["version"].tolist() == [done.result["version"]] == [1] and registered["gate"].notna().all()


def test_the_worker_command_points_at_the_same_studio(tmp_path):
    from studio.config import load_config

    config = load_config(tmp_path / "data", queue_url="redis://127.0.0.1:1/0")
    command, env = worker_command(config)
    assert command[-4:] == ["studio", "worker", "--data", str(tmp_path / "data")]
    assert env["STUDIO_QUEUE_URL"] == "redis://127.0.0.1:1/0" and env["STUDIO_DATA"] == str(tmp_path / "data")
    remote = config.replace(database_url="postgresql://u@h/db")
    assert worker_command(remote)[0][-1] == "postgresql://u@h/db"
    assert os.path.isabs(command[0])
