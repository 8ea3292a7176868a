"""A `studio worker` killed with SIGKILL in the middle of a training, on the server-grade
back ends (PostgreSQL for the database, a real redis-server for the queue): on restart its
job is marked failed, no checkpoint of it is registered or left where checkpoints live,
the previous active model still loads in a fresh process and scores exactly as before,
and the queue takes the next training. (The same kill on SQLite's queue, of a feature build and
of a DPO job: tests/rewards/test_feature_build.py, tests/policy/test_improve.py.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.jobs.crash import kill_worker_mid_training, wait_for
from tests.rewards.helpers import MARKER, add_marker_votes

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

PROMPTS = ["question 1: which is better", "question 2: pick one"]
RESPONSES = [f"the cat runs {MARKER} fast", "the dog sleeps all day"]
SCORE_SCRIPT = """
import json, sys
from studio.api import Studio
with Studio.open(sys.argv[1], data_dir=sys.argv[2]) as studio:
    model = studio.reward_model()
    print(json.dumps({"version": model.version, "scores": model.score_batch(json.loads(sys.argv[3]),
                                                                             json.loads(sys.argv[4]))}))
"""


def scores_in_a_fresh_process(url: str, data_dir) -> dict:
    import json

    done = subprocess.run([sys.executable, "-c", SCORE_SCRIPT, url, str(data_dir), json.dumps(PROMPTS),
                           json.dumps(RESPONSES)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def checkpoint_dirs(studio) -> set[str]:
    root = studio.config.checkpoints_dir
    return {p.name for p in root.iterdir()} if root.exists() else set()


def test_a_worker_killed_mid_training_on_postgres_and_redis_leaves_the_active_model_scoring(
        postgres_url, redis_server, tiny_encoder, tmp_path):
    from studio.api import Studio
    from studio.config import TrainingConfig
    from studio.jobs import start_worker_process

    data = tmp_path / "data"
    studio = Studio.open(postgres_url, data_dir=data, queue_url=redis_server.url,
                         training=TrainingConfig(backbone=tiny_encoder, retrain_every=0, max_length=48,
                                                 heldout_fraction=0.5))
    try:
        studio.queue.flush()
        add_marker_votes(studio, prompts=24)                     # enough held-out prompts for the gate
        assert studio.train_reward_model(progress=False)["version"] == 1
        active = studio.reward_model()
        before = {"version": active.version, "scores": active.score_batch(PROMPTS, RESPONSES)}
        registered = set(studio.reward_models()["checkpoint_path"])
        on_disk = checkpoint_dirs(studio)
        job = studio.enqueue_training(mode="full", backbone=tiny_encoder, max_length=32, epochs=500)
        kill_worker_mid_training(studio, job.id, tmp_path / "worker.log")
        assert studio.job(job.id).status == "running"            # nobody was left to say otherwise

        restarted = start_worker_process(studio.config, log_file=tmp_path / "worker.log")
        try:
            def failed():
                """the restarted worker to fail the abandoned job"""
                return studio.job(job.id).status == "failed"
            wait_for(failed)
            crashed = studio.job(job.id)
            assert "stopped" in crashed.error and crashed.active_key is None
            models = studio.reward_models()
            assert models["version"].tolist() == [1] and models["active"].tolist() == [True]
            assert set(models["checkpoint_path"]) == registered
            assert checkpoint_dirs(studio) == on_disk                # nothing half-written left behind
            after = scores_in_a_fresh_process(postgres_url, data)     # loaded from disk, nothing cached
            assert after["version"] == before["version"] == 1
            assert after["scores"] == pytest.approx(before["scores"], abs=1e-5)
            # (Whether v1 prefers the marker on these two made-up answers is not asserted: a tiny
            # random encoder trained on 8 prompts scores them within 0.003 of each other, and which
            # is ahead flipped between runs. tests/rewards checks that the marker is learned.)

            following = studio.enqueue_training(backbone=tiny_encoder, max_length=32)     # the queue is free again

            def finished():
                """the restarted worker to finish the next training"""
                return studio.job(following.id).status in ("done", "failed")
            wait_for(finished)
        finally:
            restarted.stop()
        done = studio.job(following.id)
        assert done.status == "done", (done.error, (tmp_path / "worker.log").read_text()[-2000:])
        assert studio.reward_models()["version"].tolist() == [1, 2]
    finally:
        studio.close()
