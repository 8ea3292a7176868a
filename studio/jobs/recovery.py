"""A thread of the worker that keeps the jobs table honest: when the worker starts and every
RECOVER_EVERY_S after (sooner when a job of a process that died on this host is about to become
failable), it fails the trainings whose worker is gone (their heartbeat stopped)
and sends again the queued ones whose task the queue lost (a flushed Redis, a crash between
the job's row and its task), so a lost task never holds "one training at a time" forever.

    recovery = Recovery(services.training).start()     # what `run_worker` does
    recovery.stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from studio.services.training import TrainingService

RECOVER_EVERY_S = 30.0
RECHECK_MARGIN_S = 0.5        # after a dead process's job becomes failable, look this much later

log = logging.getLogger("studio.worker")


class Recovery:
    def __init__(self, training: Callable[[], TrainingService], *, every: float = RECOVER_EVERY_S):
        self.training = training
        self.every = every
        self.rounds = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> tuple[list[int], list[int]]:
        failed, resent = self.training().recover()
        self.rounds += 1
        if failed:
            log.warning("marked %d abandoned job(s) failed: %s", len(failed), failed)
        if resent:
            log.warning("queued job(s) whose task was lost, sent again (or failed): %s", resent)
        return failed, resent

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def start(self) -> Recovery:
        """A round now (in this thread: before the worker takes any task), then one every
        `every` seconds in a thread of its own."""
        self._round()
        self._thread = threading.Thread(target=self._run, name="studio-recovery", daemon=True)
        self._thread.start()
        return self

    def _round(self) -> None:
        try:
            self.run_once()
        except Exception:   # a database or queue hiccup: the next round tries again
            log.exception("recovering jobs failed; retrying in %.0f s", self.every)

    def _run(self) -> None:
        while not self._stop.wait(self._next_wait()):
            self._round()

    def _next_wait(self) -> float:
        """`every`, or less when a job of a process that died here can be failed sooner (a
        worker killed just after a heartbeat: its job is failed a beat later, not a round later)."""
        try:
            soonest = self.training().jobs.seconds_until_abandoned()
        except Exception:   # the round itself reports database trouble
            return self.every
        return self.every if soonest is None else min(self.every, soonest + RECHECK_MARGIN_S)
