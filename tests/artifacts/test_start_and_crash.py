"""Bad input: a wrong artifact store fails at start in one line naming the URL and what
failed (not on the first vote), and an uploader killed half way through a model directory
leaves nothing registered and nothing anyone can read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from tests.services import free_port

pytestmark = pytest.mark.slow


def studio_cli(args: list[str], env: dict[str, str], cwd, timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STUDIO_ARTIFACTS"))}
    return subprocess.run([sys.executable, "-m", "studio", *args], env={**clean, **env}, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def error_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0 and len(lines) == 1, done.stderr[-1500:]
    return lines[0]


@pytest.mark.parametrize("command", [["serve", "--no-worker", "--no-pool"], ["worker"]])
def test_a_missing_bucket_fails_serve_and_worker_at_start_in_one_line(seaweed_server, tmp_path, command):
    env = seaweed_server.env()
    url = f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/x"
    if command[0] == "serve":
        command = [*command, "--port", str(free_port())]
    done = studio_cli([*command, "--data", str(tmp_path / "data"), "--artifacts", url], env, tmp_path)
    line = error_line(done)
    assert url in line and "does not exist" in line


def test_an_unreachable_endpoint_and_wrong_keys_fail_at_start_without_showing_the_secret(seaweed_server, tmp_path,
                                                                                          s3_bucket):
    closed = f"http://127.0.0.1:{free_port()}"
    url = f"s3://{s3_bucket}/studio"
    done = studio_cli(["artifacts", "show", "--data", str(tmp_path / "data")],
                      seaweed_server.env(AWS_ENDPOINT_URL=closed, STUDIO_ARTIFACTS_URL=url), tmp_path)
    line = error_line(done)
    assert url in line and closed in line and "cannot reach" in line

    secret = "not-the-right-secret-4711"
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "studio.toml").write_text(
        f'[studio]\nartifacts_url = "{url}"\n\n[artifacts]\nendpoint_url = "{seaweed_server.endpoint}"\n'
        f'access_key_id = "studio-test"\nsecret_access_key = "{secret}"\n')
    done = studio_cli(["stats", "--data", str(tmp_path / "data")], {}, tmp_path)
    line = error_line(done)
    assert url in line and "access denied" in line and secret not in done.stderr + done.stdout


UPLOADER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from studio.api import Studio

    studio = Studio.open(sys.argv[1])
    key = "reward-models/rm-killed"
    staged = studio.artifacts.staging_dir(key) / "rm-killed"
    staged.mkdir()
    (staged / "a-reward_model.json").write_text("{}")
    (staged / "b-weights.bin").write_bytes(b"w" * (192 << 20))
    print("uploading", flush=True)
    stored = studio.artifacts.move_tree_in(key, staged)
    with studio.store.transaction() as tx:           # what a training does: register once stored
        tx.reward_models.register(version=1, kind="text", mode="head", backbone="x", checkpoint_path=stored,
                                  metrics={}, data_max_comparison_id=0, job_id=None)
    print("registered", flush=True)
""")


def test_an_uploader_killed_mid_file_registers_nothing_and_leaves_no_readable_tree(seaweed_server, s3_bucket,
                                                                                 tmp_path):
    from studio.api import Studio
    from studio.artifacts import ArtifactMissing
    from studio.config import load_config

    data = tmp_path / "data"
    data.mkdir()
    (data / "studio.toml").write_text(f'[studio]\nartifacts_url = "s3://{s3_bucket}/studio"\n')
    env = {**os.environ, **seaweed_server.env(), "STUDIO_CACHE": str(tmp_path / "cache")}
    uploader = subprocess.Popen([sys.executable, "-c", UPLOADER, str(data)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    fs = seaweed_server.filesystem()
    deadline = time.monotonic() + 60
    first = f"{s3_bucket}/studio/reward-models/rm-killed/a-reward_model.json"
    while not fs.exists(first):                     # the first file is in: the big one is on its way
        assert uploader.poll() is None and time.monotonic() < deadline, uploader.stderr.read()[-1500:]
        time.sleep(0.02)
    uploader.send_signal(signal.SIGKILL)
    uploader.wait()

    config = load_config(data, env={**seaweed_server.env(), "STUDIO_CACHE": str(tmp_path / "reader-cache")})
    with Studio(config) as studio:
        assert studio.reward_models().empty
        assert not studio.artifacts.has_tree("reward-models/rm-killed")
        with pytest.raises(ArtifactMissing, match="reward-models/rm-killed"):
            studio.artifacts.tree("reward-models/rm-killed")
