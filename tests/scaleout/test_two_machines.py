"""The proof of the scale-out: "machine A" (`studio serve`, its own data dir, working
directory and cache) and "machine B" (`studio worker`, another of each) share only three
URLs: PostgreSQL for the votes, Redis for the queue, SeaweedFS (S3) for the files.

B generates the pool's text pairs and image grids and trains the reward model; A serves the
images to a real Chromium rater through its media route and scores a vote with B's model;
B's folders are then deleted and A goes on serving; a notebook process started in a third
directory loads the active model by URL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.rewards.helpers import add_marker_votes
from tests.services import free_port

pytestmark = pytest.mark.slow

PROMPTS = ["Name a fruit.", "Say hello.", "Describe the sea.", "Count to three.", "Name a colour.",
           "Give a greeting.", "Name an animal.", "Describe a tree."]


def wait_until(what, timeout: float = 90.0, every: float = 0.2, why=lambda: ""):
    deadline = time.monotonic() + timeout
    while True:
        found = what()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what.__doc__ or what} did not happen within {timeout:.0f} s {why()}")
        time.sleep(every)


class Machine:
    """A studio process in its own folder: data dir, cache and working directory inside."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True)
        self.env = {**os.environ, **env, "STUDIO_CACHE": str(root / "cache"), "PYTHONUNBUFFERED": "1",
                    "GRADIO_ANALYTICS_ENABLED": "False"}
        self.env.pop("STUDIO_DATA", None)
        self.process: subprocess.Popen | None = None

    def start(self, *args: str) -> Machine:
        with open(self.root / "process.log", "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "studio", *args, "--data", str(self.data)],
                                            cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def log(self) -> str:
        return (self.root / "process.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def test_a_server_and_a_gpu_worker_that_share_only_three_urls(postgres_url, redis_server, seaweed_server, s3_bucket,
                                                             tiny_encoder, tmp_path, page):
    from studio.api import Studio
    from studio.config import TrainingConfig, load_config
    from studio.generation.tiny import tiny_image_contender, tiny_text_contenders
    from studio.jobs.queue import ROLES

    urls = {"STUDIO_DATABASE_URL": postgres_url, "STUDIO_QUEUE_URL": redis_server.url,
            "STUDIO_ARTIFACTS_URL": f"s3://{s3_bucket}/studio", **seaweed_server.env()}
    training = f'[training]\nbackbone = "{tiny_encoder}"\nmax_length = 48\nretrain_every = 0\nheldout_fraction = 0.5\n'

    # An admin's notebook, in a folder of its own: prompts and contenders (models only B can reach).
    models = tmp_path / "B" / "models"
    admin_config = load_config(postgres_url, data_dir=tmp_path / "admin",
                               env={**urls, "STUDIO_CACHE": str(tmp_path / "admin-cache")},
                               training=TrainingConfig(backbone=tiny_encoder, retrain_every=0, max_length=48,
                                                       heldout_fraction=0.5))
    with Studio(admin_config) as admin:
        for role in ROLES:
            admin._queue.of(role).flush()
        admin.add_prompts(PROMPTS)
        for spec in (*tiny_text_contenders(models, max_new_tokens=6), tiny_image_contender(models, steps=1)):
            admin.add_contender(spec)

    machine_a, machine_b = Machine(tmp_path / "A", urls), Machine(tmp_path / "B", urls)
    pool = "[pool]\nmin_ready = 10\nbatch_size = 8\non_workers = true\n\n"     # pairs and grids, in turn
    (machine_a.data / "studio.toml").write_text(pool + training)
    (machine_b.data / "studio.toml").write_text(training)
    port = free_port()
    machine_a.start("serve", "--port", str(port), "--no-worker")
    machine_b.start("worker")
    url = f"http://127.0.0.1:{port}/"
    watcher = Studio(load_config(postgres_url, data_dir=tmp_path / "watch",
                                 env={**urls, "STUDIO_CACHE": str(tmp_path / "watch-cache")}))
    try:
        def ready():
            """A's page answering and B's first pairs and grids in the pool"""
            status = watcher.pool_status()
            return status.ready.get("default", 0) >= 8
        wait_until(ready, 120, why=lambda: f"\nA: {machine_a.log()}\nB: {machine_b.log()}")
        wait_until(lambda: httpx.get(url, timeout=5).status_code == 200 if machine_a.process.poll() is None else
                   pytest.fail(machine_a.log()), 120)

        # A real rater on A: an image grid from B's pipeline, streamed from the bucket by A.
        from tests.ui.browser import enter_name

        enter_name(page, url, "rita")
        page.get_by_role("tab", name="Image ranking").click()
        page.wait_for_function("() => document.querySelectorAll('#grid-images img.studio-image').length === 4 &&"
                               " [...document.querySelectorAll('#grid-images img')].every(i => i.complete &&"
                               " i.naturalWidth > 0 && i.getAttribute('src').startsWith('studio-media/'))")

        # Votes recorded from the admin's notebook (a marker the model can learn), and a training
        # queued from there: B takes it, uploads the checkpoint, and the version passes the gate.
        add_marker_votes(watcher, prompts=16)      # half the prompts held out: enough for the gate to judge
        job = watcher.enqueue_training(kind="text")

        def trained():
            """B to finish the training"""
            return watcher.job(job.id).status in ("done", "failed")
        wait_until(trained, 120, why=lambda: f"\nB: {machine_b.log()}")
        assert watcher.job(job.id).status == "done", watcher.job(job.id).error
        models_frame = watcher.reward_models()
        key = models_frame["checkpoint_path"].iloc[0]
        assert key.startswith("reward-models/rm-") and bool(models_frame["active"].iloc[0]), models_frame.to_dict()

        # A scores the next text vote with B's model: the prediction is written by A's process.
        # The arena shows the model's guess to admins only: this browser opens the admin link A printed.
        import re

        admin_link = re.search(r"http://\S+/admin\?token=\S+", (machine_a.root / "process.log").read_text())
        assert admin_link, machine_a.log()
        page.goto(admin_link.group(0))
        page.wait_for_selector("#studio-tabs", state="visible")
        page.get_by_role("tab", name="Arena", exact=True).click()
        page.wait_for_function("() => { const t = document.querySelector('#arena-prompt').innerText.trim();"
                               " return t.length > 0 && !t.includes('No pairs'); }", timeout=60_000)
        page.click("#arena-vote-a")
        page.wait_for_selector("#arena-prediction >> text=predicted")
        assert any((tmp_path / "A" / "cache").rglob(f"{key.rsplit('/', 1)[1]}/reward_model.json"))

        # B is gone, folders and all: A serves the next grid (files only the bucket has).
        machine_b.stop()
        shutil.rmtree(machine_b.root)
        page.get_by_role("tab", name="Image ranking").click()
        page.locator("#grid-best").get_by_text("1", exact=True).click()
        page.click("#grid-submit")
        page.wait_for_selector("#grid-reveal >> text=Ranking saved")
        page.wait_for_function("() => document.querySelectorAll('#grid-images img.studio-image').length === 4 &&"
                               " [...document.querySelectorAll('#grid-images img')].every(i => i.complete &&"
                               " i.naturalWidth > 0)", timeout=60_000)

        # A notebook in a third folder loads the active model by URL alone.
        third = tmp_path / "C"
        third.mkdir()
        script = textwrap.dedent(f"""
            import json
            from studio import Studio
            studio = Studio.open({postgres_url!r})
            model = studio.reward_model()
            print(json.dumps({{"version": model.version, "score": model.score_batch(["Say hello."], ["hi"])[0]}}))
        """)
        done = subprocess.run([sys.executable, "-c", script], cwd=third, capture_output=True, text=True, timeout=120,
                              env={**machine_a.env, "STUDIO_CACHE": str(third / "cache")})
        assert done.returncode == 0, done.stderr[-2000:]
        loaded = json.loads(done.stdout.strip().splitlines()[-1])
        assert loaded["version"] == watcher.registry.active_record("text").version
        assert any((third / "cache").rglob("reward_model.json"))
    finally:
        watcher.close()
        machine_b.stop()
        machine_a.stop()
