"""The worker: a Huey consumer for the studio's queue, run by `studio worker` or started by
`studio serve` as a child process.

On start, and every 30 s after (`studio.jobs.recovery`), it fails the jobs whose worker is
gone (their heartbeat stopped: a killed process never reports back; see
`JobBoard.recover_abandoned`) and sends again the queued jobs whose task the queue lost. The
active reward model is untouched by a failed job, so the previous version stays active. Its
tasks run on services built once from its own config (`WorkerServices`), never on a `Studio`.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from studio.config import StudioConfig

log = logging.getLogger("studio.worker")


def run_worker(config: StudioConfig, *, workers: int = 1, roles: Sequence[str] = ("train", "generate")) -> None:
    """Run consumers for `roles` ("train": reward-model trainings, "generate": the pool's
    top-ups) until interrupted (SIGINT: finish the current task; SIGTERM: stop now). The
    artifact store is reached first, so a wrong URL fails here and not on the first job."""
    from studio.artifacts import open_artifacts
    from studio.errors import ConfigError
    from studio.jobs.queue import ROLES, JobQueue, is_immediate, make_huey
    from studio.jobs.recovery import Recovery
    from studio.jobs.tasks import WorkerServices

    if is_immediate(config):
        raise ConfigError("queue_url is 'immediate': jobs run inline, there is nothing for a worker to do")
    roles = [role for role in ROLES if role in roles]
    if not roles:
        raise ConfigError("a worker needs a role: --train, --generate, or both (the default)")
    open_artifacts(config)
    services = WorkerServices(config)
    hueys = {role: make_huey(config, services, role=role) for role in roles}
    services.queue = JobQueue(config, hueys=hueys)
    log.info("worker for %s on %s, artifacts in %s", " and ".join(roles), config.queue_url or "the data dir's queue",
             config.artifacts_url or config.data_dir)
    recovery = Recovery(services.training).start()
    consumers = [hueys[role].create_consumer(workers=workers, worker_type="thread", periodic=False, initial_delay=0.1,
                                             max_delay=0.5, check_worker_health=True) for role in roles]
    for extra in consumers[1:]:
        extra.start()               # threads of this process; the first consumer holds the signals
    try:
        consumers[0].run()
    finally:
        for extra in consumers[1:]:
            extra.stop(graceful=False)
        recovery.stop()


class WorkerProcess(subprocess.Popen):
    """A `studio worker` child process; `stop()` ends it."""

    def stop(self, timeout: float = 15.0) -> None:
        if self.poll() is not None:
            return
        self.send_signal(signal.SIGTERM)
        try:
            self.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait()


def worker_command(config: StudioConfig, roles: Sequence[str] = ()) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run a worker for this config."""
    env = dict(os.environ)
    env["STUDIO_DATA"] = str(config.data_dir)
    if config.queue_url:
        env["STUDIO_QUEUE_URL"] = config.queue_url
    if config.artifacts_url:
        env["STUDIO_ARTIFACTS_URL"] = config.artifacts_url
    default_db = f"sqlite:///{(config.data_dir / 'studio.db').resolve()}"
    target = str(config.data_dir) if config.database_url == default_db else config.database_url
    return [sys.executable, "-m", "studio", "worker", "--data", target, *(f"--{role}" for role in roles)], env


def start_worker_process(config: StudioConfig, *, log_file: str | os.PathLike | None = "default") -> WorkerProcess:
    """Start `studio worker` for this config in a child process (what `studio serve` does).
    Its output goes to `worker.log` in the data dir unless `log_file` says otherwise (None:
    discarded)."""
    command, env = worker_command(config)
    if log_file == "default":
        config.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = config.data_dir / "worker.log"
    if log_file is None:
        return WorkerProcess(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(log_file, "ab") as output:
        return WorkerProcess(command, env=env, stdout=output, stderr=subprocess.STDOUT)
