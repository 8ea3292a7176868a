"""A queued job whose Huey task was lost (a flushed Redis, a crash between the job's row and
its task) used to hold "one training at a time" forever: nothing trained, automatic
retraining stopped, no error. Now its task is sent again, when a worker starts, on a
schedule, and when someone asks for a training."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from studio.jobs import start_worker_process
from studio.store.schema import Job
from tests.jobs.crash import wait_for
from tests.rewards.helpers import add_marker_votes

pytestmark = pytest.mark.redis


@pytest.mark.slow
def test_a_worker_started_after_redis_was_flushed_runs_the_queued_training(open_sqlite_studio, redis_server,
                                                                          tmp_path):
    studio = open_sqlite_studio(queue_url=redis_server.url)
    studio.queue.flush()
    add_marker_votes(studio, prompts=8)
    job = studio.enqueue_training(max_length=32)
    assert job.status == "queued" and studio.queue.pending_count() == 1
    studio.queue.flush()                                       # the task is gone; the row still says queued
    assert studio.queue.pending_count() == 0
    worker = start_worker_process(studio.config, log_file=tmp_path / "worker.log")
    try:
        def ended():
            """the worker to run the job whose task was lost"""
            return studio.job(job.id).status in ("done", "failed")
        wait_for(ended, timeout=180)
    finally:
        worker.stop()
    done = studio.job(job.id)
    assert done.status == "done", (done.error, (tmp_path / "worker.log").read_text()[-2000:])
    # registered (its activation is the gate's business, not recovery's) and the key released
    assert studio.reward_models()["version"].tolist() == [1] and done.active_key is None


def test_recovery_sends_a_lost_task_again_once(open_sqlite_studio, redis_server):
    studio = open_sqlite_studio(queue_url=redis_server.url)
    studio.queue.flush()
    add_marker_votes(studio, prompts=4)
    job = studio.enqueue_training()
    studio.queue.flush()
    failed, resent = studio.training.recover()
    assert (failed, resent) == ([], [job.id])
    again = studio.job(job.id)
    assert again.status == "queued" and again.task_id != job.task_id and "queued again" in again.message
    assert studio.queue.pending_count() == 1
    assert studio.training.recover() == ([], [])                   # a task that is waiting is left alone
    assert studio.queue.pending_count() == 1
    studio.queue.flush()


def test_asking_for_a_training_sends_a_lost_one_again(open_sqlite_studio, redis_server):
    """The retrain trigger and the Train button return the job already queued: that job
    must not be one that can never run."""
    studio = open_sqlite_studio(queue_url=redis_server.url)
    studio.queue.flush()
    add_marker_votes(studio, prompts=4)
    job = studio.enqueue_training()
    studio.queue.flush()
    assert studio.enqueue_training().id == job.id
    assert studio.queue.pending_count() == 1 and studio.job(job.id).task_id != job.task_id
    studio.queue.flush()


def test_a_job_whose_task_was_never_sent_is_sent_after_a_grace_period(open_sqlite_studio, redis_server):
    """A crash between writing the job's row and sending its task: no task id at all. A
    fresh one may still be on its way; one older than the grace is sent."""
    studio = open_sqlite_studio(queue_url=redis_server.url)
    studio.queue.flush()
    with studio.store.transaction() as tx:
        job = tx.jobs.create("train_reward_model", {"mode": "head"}, active_key="train_reward_model")
    assert studio.training.recover() == ([], [])                    # just created: its send may be under way
    with studio.store.transaction() as tx:
        tx.session.execute(update(Job).where(Job.id == job.id)
                           .values(created_at=datetime.now(UTC) - timedelta(minutes=2)))
    assert studio.training.recover() == ([], [job.id])
    assert studio.job(job.id).task_id and studio.queue.pending_count() == 1
    studio.queue.flush()


def test_a_lost_job_that_cannot_be_sent_again_is_failed_with_the_reason(open_sqlite_studio, redis_server):
    studio = open_sqlite_studio(queue_url=redis_server.url)
    studio.queue.flush()
    with studio.store.transaction() as tx:
        job = tx.jobs.create("an_old_kind", {}, active_key="an_old_kind")
        tx.session.execute(update(Job).where(Job.id == job.id)
                           .values(created_at=datetime.now(UTC) - timedelta(minutes=2)))
    assert studio.training.recover() == ([], [job.id])
    failed = studio.job(job.id)
    assert failed.status == "failed" and failed.active_key is None
    assert "could not be sent again" in failed.error and "an_old_kind" in failed.error
