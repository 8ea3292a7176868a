"""`studio serve` and `studio demo` as a user runs them: a real process on a free port,
stopped with SIGTERM (what systemd and docker send) and leaving no child behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.services import free_port, wait_for_port

pytestmark = pytest.mark.slow


def start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "studio", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "120"})


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=90)
    return output


def test_serve_answers_on_its_port_and_stops_with_its_worker(tmp_path):
    from studio.api import Studio

    with Studio.open(tmp_path / "data") as studio:
        studio.add_prompts(["a prompt"])
    port = free_port()
    server = start("serve", "--data", str(tmp_path / "data"), "--port", str(port), cwd=tmp_path)
    try:
        wait_for_port(port, timeout=120)
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert page.status_code == 200 and "Feedback Studio" in page.text
        worker = [pid for pid in children(server.pid) if "worker" in Path(f"/proc/{pid}/cmdline").read_text()]
        assert worker, "studio serve starts a background worker"
    finally:
        output = stop(server)
    assert server.returncode == 0, output
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in worker):
        time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() for pid in worker), "the worker outlived the server"


def printed_admin_link(process: subprocess.Popen, timeout: float = 120) -> str:
    """Read the server's output until the admin link line; returns the link."""
    import re
    import threading

    found: list[str] = []
    lines: list[str] = []

    def read():
        for line in process.stdout:
            lines.append(line)
            match = re.search(r"http://\S+/admin\?token=\S+", line)
            if match:
                found.append(match.group(0))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, "no admin link printed: " + "".join(lines)[-2000:]
    return found[0]


def test_demo_writes_the_starter_prompts_and_contenders_then_serves_with_an_admin_link(tmp_path):
    """`make run` is `studio demo`: it prints the admin link once it serves; opening the
    link sets the admin cookie, and the page opened without it has no admin powers."""
    port = free_port()
    demo = start("demo", "--port", str(port), "--no-worker", cwd=tmp_path)
    try:
        wait_for_port(port, timeout=120)
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=30).status_code == 200
        link = printed_admin_link(demo)
        assert link.startswith(f"http://127.0.0.1:{port}/admin?token=")
        opened = httpx.get(link, timeout=30)
        assert opened.status_code == 303 and opened.cookies.get(f"studio-admin-{port}")
        wrong = httpx.get(link[:-2], timeout=30)
        assert wrong.status_code == 403 and not wrong.cookies
    finally:
        output = stop(demo)
    assert demo.returncode == 0, output
    from studio.api import Studio

    with Studio.open(tmp_path / "studio-data") as studio:       # ./studio-data, made by the demo
        assert studio.prompt_sets().get("starter", 0) >= 50
        assert len(studio.contenders()) == 2
