"""Real worker processes: one killed mid-training leaves the previous version active and its
job failed; one consuming a real redis-server trains and activates a version."""

from __future__ import annotations

import os

import pytest

from studio.jobs import start_worker_process
from studio.jobs.worker import worker_command
from tests.jobs.crash import kill_worker_mid_training, wait_for
from tests.rewards.helpers import add_marker_votes


@pytest.mark.slow
def test_a_worker_killed_mid_training_fails_its_job_and_keeps_the_previous_version(
        open_sqlite_studio, tiny_encoder, tmp_path):
    studio = open_sqlite_studio(queue_url=None, heldout_fraction=0.5)
    add_marker_votes(studio, prompts=24)                 # enough held-out prompts for the gate
    assert studio.train_reward_model(progress=False)["version"] == 1
    job = studio.enqueue_training(mode="full", backbone=tiny_encoder, max_length=32, epochs=500)
    kill_worker_mid_training(studio, job.id, tmp_path / "worker.log")
    assert studio.job(job.id).status == "running"               # nobody was left to say otherwise
    restarted = start_worker_process(studio.config, log_file=tmp_path / "worker.log")
    try:
        def failed():
            """the restarted worker to fail the abandoned job"""
            return studio.job(job.id).status == "failed"
        wait_for(failed)
    finally:
        restarted.stop()
    assert "stopped" in studio.job(job.id).error
    assert studio.reward_model().version == 1                    # the previous version stays active
    assert studio.reward_models()["version"].tolist() == [1]
    assert studio.enqueue_training().status == "queued"          # the queue is free again


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
