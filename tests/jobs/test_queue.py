"""The retrain trigger and the queue: exactly one job past the threshold, immediate mode runs
it, cancellation, and the jobs table as the one place to read status from."""

from __future__ import annotations

import pytest

from studio.errors import ConfigError
from studio.jobs import make_huey
from tests.jobs.test_job_states import backdate_heartbeat
from tests.rewards.helpers import add_marker_votes


def test_votes_past_the_threshold_queue_exactly_one_training(open_studio):
    studio = open_studio(queue_url=None, retrain_every=20)      # SQLite queue, no worker here
    add_marker_votes(studio, prompts=4)                          # 4 prompts x 4 decisive = 16 votes
    assert studio.jobs().empty
    add_marker_votes(studio, prompts=6, seed=1)                  # crosses 20, then 20 more votes
    jobs = studio.jobs()
    assert len(jobs) == 1 and jobs["status"].iloc[0] == "queued"
    assert jobs["payload"].iloc[0]["trigger"] == "votes"
    assert studio.queue.pending_count() == 1                     # one task in Huey's queue too


def test_immediate_mode_trains_registers_and_activates_at_the_threshold(open_sqlite_studio):
    studio = open_sqlite_studio(queue_url="immediate", retrain_every=96, heldout_fraction=0.5)
    add_marker_votes(studio, prompts=26, rounds=1)               # 104 votes: one training at 96 (24 prompts)
    jobs = studio.jobs()
    assert jobs["status"].tolist() == ["done"]
    models = studio.reward_models()
    assert models["version"].tolist() == [1] and models["active"].tolist() == [True]
    assert models["heldout_accuracy"].iloc[0] is not None
    assert models["data_max_comparison_id"].iloc[0] == 96        # trained on the votes so far
    assert jobs["result"].iloc[0]["version"] == 1
    assert jobs["progress"].iloc[0] == 1.0
    html = studio.job(int(jobs["id"].iloc[0]))._repr_html_()     # a notebook shows the metrics, not a dict
    assert "version: 1" in html and "heldout_accuracy: " in html and "{" not in html
    add_marker_votes(studio, prompts=22, seed=3)                 # 88 more: 96 since v1's data
    assert studio.reward_models()["version"].tolist() == [1, 2]


def test_full_fine_tunes_follow_their_own_threshold(open_sqlite_studio):
    studio = open_sqlite_studio(queue_url=None, retrain_every=1000, full_retrain_every=12)
    add_marker_votes(studio, prompts=4)
    jobs = studio.jobs()
    assert len(jobs) == 1 and jobs["payload"].iloc[0]["mode"] == "full"


def test_cancelling_a_queued_job_means_it_never_runs(open_sqlite_studio):
    studio = open_sqlite_studio(queue_url=None)
    add_marker_votes(studio, prompts=6)
    job = studio.enqueue_training()
    assert job.status == "queued" and job.task_id
    cancelled = studio.cancel_job(job.id)
    assert cancelled.status == "cancelled" and cancelled.active_key is None
    assert studio.training.run_job(job.id) is None                        # a worker that still gets it does nothing
    assert studio.job(job.id).status == "cancelled" and studio.reward_models().empty
    assert "Job" in studio.job(job.id)._repr_html_()


def test_a_failing_training_is_recorded_and_releases_the_queue(open_sqlite_studio):
    studio = open_sqlite_studio(queue_url="immediate", backbone="/nonexistent/backbone")
    add_marker_votes(studio, prompts=6)
    job = studio.enqueue_training()
    assert job.status == "failed" and "cannot load" in job.error
    assert job.active_key is None
    assert studio.enqueue_training().id != job.id                # the next one may run


def test_the_queue_follows_the_config(tmp_path, redis_server):
    from huey import MemoryHuey, RedisHuey, SqliteHuey

    from studio.config import load_config

    config = load_config(tmp_path / "data")
    huey = make_huey(config)
    assert isinstance(huey, SqliteHuey) and (tmp_path / "data" / "queue.sqlite3").exists()
    assert isinstance(make_huey(config.replace(queue_url="immediate")), MemoryHuey)
    redis_huey = make_huey(config.replace(queue_url=redis_server.url))
    assert isinstance(redis_huey, RedisHuey)
    redis_huey.flush()
    redis_huey.studio_tasks["studio.train_reward_model"](12345)
    assert redis_huey.pending_count() == 1                        # really in redis-server
    redis_huey.flush()
    with pytest.raises(ConfigError, match="queue_url 'amqp://x' is not supported"):
        make_huey(config.replace(queue_url="amqp://x"))


def test_cancelling_a_running_training_stops_it_and_keeps_the_active_model(open_sqlite_studio, tiny_encoder):
    import threading
    import time

    from studio.jobs import run_training_job

    studio = open_sqlite_studio(queue_url=None, heldout_fraction=0.5)
    add_marker_votes(studio, prompts=24)                         # enough held-out prompts for the gate
    assert studio.train_reward_model(progress=False)["activated"]
    job = studio.enqueue_training(mode="full", epochs=1000, max_length=32)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(result=run_training_job(studio.config, job.id)))
    thread.start()
    deadline = time.monotonic() + 120
    while studio.job(job.id).step == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert studio.cancel_job(job.id).status == "running"          # asked; it stops at its next step
    thread.join(timeout=60)
    assert not thread.is_alive() and outcome["result"] is None
    ended = studio.job(job.id)
    assert ended.status == "cancelled" and ended.active_key is None and ended.step < ended.total_steps
    assert studio.reward_models()["version"].tolist() == [1] and studio.reward_model().version == 1


def test_a_training_left_running_by_a_dead_process_does_not_block_the_next(open_sqlite_studio):
    import socket
    import subprocess
    import sys

    studio = open_sqlite_studio(queue_url=None)
    add_marker_votes(studio, prompts=6)
    job = studio.enqueue_training()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with studio.store.transaction() as tx:                          # as if a notebook died mid-training
        assert tx.jobs.start(job.id, f"{socket.gethostname()}:{int(gone.stdout)}")
    backdate_heartbeat(studio, job.id, 45)                          # ... and stopped beating a while ago
    assert studio.train_reward_model(progress=False)["version"] == 1
    assert studio.job(job.id).status == "failed"
