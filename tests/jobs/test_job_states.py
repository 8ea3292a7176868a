"""Jobs that cannot lie: a job ends once (ended jobs never change), a training whose job
ended meanwhile registers nothing and leaves no checkpoint, and the reaper fails a job only
when its heartbeat has stopped, never a live one (this process's own included)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from studio.errors import StudioError
from studio.services.jobs import worker_name
from studio.store.schema import Job
from tests.jobs.crash import wait_for
from tests.rewards.helpers import add_marker_votes

END_STATES = ("done", "failed", "cancelled")


def backdate_heartbeat(studio, job_id: int, seconds: float) -> None:
    """As if the job's worker last beat `seconds` ago."""
    with studio.store.transaction() as tx:
        tx.session.execute(update(Job).where(Job.id == job_id)
                           .values(heartbeat_at=datetime.now(UTC) - timedelta(seconds=seconds)))


def a_dead_pid() -> int:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(gone.stdout)


def ended_job(studio, status: str):
    with studio.store.transaction() as tx:
        job = tx.jobs.create("train_reward_model", {"mode": "head"}, active_key=f"key-{status}")
        assert tx.jobs.start(job.id, worker_name())
        ended = {"done": lambda: tx.jobs.finish(job.id, {"version": 1}),
                 "failed": lambda: tx.jobs.fail(job.id, "the reaper said so"),
                 "cancelled": lambda: tx.jobs.cancelled(job.id)}[status]()
        assert ended is True
        return tx.jobs.get(job.id)


@pytest.mark.parametrize("status", END_STATES)
def test_an_ended_job_never_changes_again(studio, status):
    before = ended_job(studio, status)
    with studio.store.transaction() as tx:
        attempts = {
            "start": tx.jobs.start(before.id, "elsewhere:1"),
            "finish": tx.jobs.finish(before.id, {"version": 99}, "late"),
            "fail": tx.jobs.fail(before.id, "late failure"),
            "cancel": tx.jobs.cancelled(before.id, "late cancel"),
            "beat": tx.jobs.beat(before.id, worker_name()),
            "task": tx.jobs.set_task_id(before.id, "late-task"),
            "requeue": tx.jobs.requeued(before.id, "late-task", "late"),
        }
        tx.jobs.report(before.id, step=5, total_steps=10, eta_s=1.0, message="late progress")
        tx.jobs.request_cancel(before.id)
    assert attempts == dict.fromkeys(attempts, False)
    assert studio.job(before.id) == before            # every field as it ended, the key still free
    assert before.active_key is None


@pytest.mark.slow
def test_a_training_whose_job_was_failed_meanwhile_registers_nothing(open_studio):
    """The reaper (or anyone) fails the job while the training evaluates; the training then
    finishes: its model is not registered, the job stays failed, the checkpoint is removed."""
    studio = open_studio()
    add_marker_votes(studio, prompts=12)
    seen = []

    def reaper_strikes(update):
        if update is not None and update.phase == "evaluating" and not seen:
            job_id = int(studio.training.holder().id)
            with studio.store.transaction() as tx:
                assert tx.jobs.fail(job_id, "failed by a reaper on another host")
            seen.append(job_id)

    with pytest.raises(StudioError, match="was failed before its training finished: nothing was registered"):
        studio.train_reward_model(progress=reaper_strikes)
    (job_id,) = seen
    job = studio.job(job_id)
    assert job.status == "failed" and job.error == "failed by a reaper on another host" and job.result is None
    assert studio.reward_models().empty
    root = studio.config.checkpoints_dir
    assert not root.exists() or not [p for p in root.iterdir() if p.name.startswith("rm-")]
    assert studio.train_reward_model(progress=False)["version"] == 1      # the next one trains and registers


@pytest.mark.slow
def test_a_second_training_request_never_fails_the_live_one_of_this_process(open_sqlite_studio):
    """A notebook trains in a thread, then asks for another training: the first is alive
    (its heartbeat is fresh) and keeps running; the second is refused."""
    studio = open_sqlite_studio()
    add_marker_votes(studio, prompts=6)
    outcome = {}

    def long_training():
        try:
            outcome["metrics"] = studio.train_reward_model(mode="full", epochs=1000, max_length=32, progress=False)
        except StudioError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=long_training)
    thread.start()
    try:
        def training():
            """the training to report steps"""
            holder = studio.training.holder()
            return holder if holder is not None and holder.status == "running" and holder.step > 0 else None
        live = wait_for(training, timeout=120)
        assert live.worker == worker_name()
        with pytest.raises(StudioError, match=f"already running \\(job {live.id}\\)"):
            studio.train_reward_model(progress=False)
        assert studio.job_board.recover_abandoned() == []
        assert studio.job(live.id).status == "running"
    finally:
        studio.cancel_job(live.id)
        thread.join(timeout=120)
    assert studio.job(live.id).status == "cancelled" and "metrics" not in outcome


def test_only_a_silent_heartbeat_gets_a_job_failed(sqlite_studio):
    board = sqlite_studio.job_board
    jobs = {}
    with sqlite_studio.store.transaction() as tx:
        for name, worker in (("other_host_beating", "gpu-box:4242"), ("other_host_silent", "gpu-box:4243"),
                             ("dead_here_just_now", f"{socket.gethostname()}:{a_dead_pid()}"),
                             ("dead_here_a_while", f"{socket.gethostname()}:{a_dead_pid()}")):
            jobs[name] = tx.jobs.create("train_reward_model", {}, active_key=name).id
            assert tx.jobs.start(jobs[name], worker)
    backdate_heartbeat(sqlite_studio, jobs["other_host_beating"], 20 * 60)
    backdate_heartbeat(sqlite_studio, jobs["other_host_silent"], 20 * 60)
    backdate_heartbeat(sqlite_studio, jobs["dead_here_just_now"], 5)
    backdate_heartbeat(sqlite_studio, jobs["dead_here_a_while"], 45)

    from studio.services.heartbeat import Heartbeat

    with Heartbeat(sqlite_studio.store, jobs["other_host_beating"], "gpu-box:4242", every=0.05) as beating:
        wait_for(lambda: beating.beats >= 2, timeout=30)                  # a long step, no progress report
        failed = board.recover_abandoned()
    assert sorted(failed) == sorted([jobs["other_host_silent"], jobs["dead_here_a_while"]])
    status = {name: sqlite_studio.job(job_id).status for name, job_id in jobs.items()}
    assert status == {"other_host_beating": "running", "other_host_silent": "failed",
                      "dead_here_just_now": "running", "dead_here_a_while": "failed"}
    assert "no heartbeat for over 5 minutes" in sqlite_studio.job(jobs["other_host_silent"]).error
    assert "stopped (killed or crashed)" in sqlite_studio.job(jobs["dead_here_a_while"]).error


def test_a_worker_killed_just_after_a_beat_has_its_job_failed_a_beat_later_not_a_round_later(
        sqlite_studio, quick_reaping):
    """The restarted worker's first recovery round finds the job's beat still fresh; it must
    look again once that beat is too old, not wait for its next scheduled round."""
    from studio.jobs.recovery import Recovery

    with sqlite_studio.store.transaction() as tx:
        job = tx.jobs.create("train_reward_model", {}, active_key="k")
        tx.jobs.start(job.id, f"{socket.gethostname()}:{a_dead_pid()}")       # beat: now
    assert 0 < sqlite_studio.job_board.seconds_until_abandoned() <= 1
    recovery = Recovery(lambda: sqlite_studio.training, every=600).start()
    try:
        assert sqlite_studio.job(job.id).status == "running"                    # the round at start: too fresh

        def failed():
            """the recovery to fail the dead process's job"""
            return sqlite_studio.job(job.id).status == "failed"
        wait_for(failed, timeout=20)
    finally:
        recovery.stop()
    assert "stopped (killed or crashed)" in sqlite_studio.job(job.id).error
    assert sqlite_studio.job_board.seconds_until_abandoned() is None


def test_a_heartbeat_stops_by_itself_once_its_job_has_ended(sqlite_studio):
    from studio.services.heartbeat import Heartbeat

    with sqlite_studio.store.transaction() as tx:
        job = tx.jobs.create("train_reward_model", {}, active_key="k")
        tx.jobs.start(job.id, worker_name())
    with Heartbeat(sqlite_studio.store, job.id, worker_name(), every=0.05) as beating:
        wait_for(lambda: beating.beats >= 1, timeout=30)
        with sqlite_studio.store.transaction() as tx:
            tx.jobs.fail(job.id, "ended elsewhere")
        wait_for(lambda: beating.ended, timeout=30)
    assert sqlite_studio.job(job.id).status == "failed"
