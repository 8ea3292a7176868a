"""A running job's heartbeat: a thread of the process running it writes `heartbeat_at` every
few seconds, whatever the job is doing (a long step, a checkpoint being written, a model
loading), so that a reaper can tell a live job from one whose worker is gone.

    with Heartbeat(store, job_id, worker_name()):
        train(...)                       # the row beats every HEARTBEAT_EVERY_S meanwhile

It stops on leaving the block, or by itself once the job is no longer running there (it
ended, or was failed by a reaper); `ended` says so, and the job's `should_stop` reads it.
"""

from __future__ import annotations

import logging
import threading

from studio.store import Store

HEARTBEAT_EVERY_S = 10.0

log = logging.getLogger("studio.jobs")


class Heartbeat:
    def __init__(self, store: Store, job_id: int, worker: str, *, every: float = HEARTBEAT_EVERY_S):
        self.store = store
        self.job_id = job_id
        self.worker = worker
        self.every = every
        self.beats = 0
        self.ended = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._run, name=f"studio-heartbeat-{self.job_id}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def beat(self) -> bool:
        """One beat now; False once the job is no longer running in this process."""
        with self.store.transaction() as tx:
            alive = tx.jobs.beat(self.job_id, self.worker)
        if alive:
            self.beats += 1
        else:
            self.ended = True
        return alive

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                if not self.beat():
                    return
            except Exception:   # a busy or unreachable database: try again at the next beat
                log.warning("job %s: heartbeat not written; retrying", self.job_id, exc_info=True)
