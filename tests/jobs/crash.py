"""Killing a real worker in the middle of a training, shared by the SQLite test (tests/jobs)
and the PostgreSQL + Redis one (tests/reliability)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from studio.jobs import start_worker_process


def wait_for(check, timeout: float = 240.0, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"gave up after {timeout}s waiting for {check.__doc__ or check}")


def kill_worker_mid_training(studio, job_id: int, log_file: Path) -> None:
    """Start a worker, wait until it reports training steps of `job_id`, then SIGKILL it."""
    worker = start_worker_process(studio.config, log_file=log_file)
    try:
        def training():
            """the worker to report training steps"""
            current = studio.job(job_id)
            return current.status == "running" and current.step > 0 and current.total_steps
        wait_for(training)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        worker.stop()
