"""A background thread that keeps the pool of ready rating items topped up.

    worker = PoolWorker(pool_service).start()
    ...                                # the next pair is ready before a rater asks
    worker.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from studio.services.pool import PoolService

log = logging.getLogger("studio.pool")


class PoolWorker:
    """Keeps the pool topped up from a background thread.

    Each round calls `pool.refill()`; when nothing was missing it sleeps `interval`
    seconds (or until `wake()`). `stop()` interrupts a round in progress between (and within)
    generation batches; the outputs of an interrupted round are discarded, never half-written.
    """

    def __init__(self, pool: PoolService, *, prompt_set: str | None = None, min_ready: int | None = None,
                 interval: float = 2.0, say: Callable[[str], None] | None = None):
        self.pool = pool
        self.say = say                    # progress lines for the terminal (warm-up, first pairs)
        self.started_at = time.monotonic()
        self.prompt_set = prompt_set
        self.min_ready = min_ready
        self.interval = interval
        self.created = 0                  # items made since start
        self.rounds = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> PoolWorker:
        if not self.running:
            self._stop.clear()
            self.started_at = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="studio-pool", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Refill now rather than after the current sleep (e.g. when a rater found nothing)."""
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> PoolWorker:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _run(self) -> None:
        from studio.generation.base import Stopped

        first = True
        while not self._stop.is_set():
            made = 0
            if first and self.say:
                self.say("pool: loading the contenders' models and generating the first pairs (the first start "
                         "converts SmolLM2 once, about 20 s)")
            try:
                before = self.created
                made = self.pool.refill(self.prompt_set, min_ready=self.min_ready, should_stop=self._stop.is_set,
                                        on_written=self._written)
                self.created = before + made
                self.last_error = None
            except Stopped:
                break
            except Exception as exc:  # the pool must outlive any one bad round
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("pool refill failed; retrying in %.0f s", self.interval)
            self.rounds += 1
            if first and self.say:
                self.say(f"pool: {made} new pairs ready, {time.monotonic() - self.started_at:.0f} s after start"
                         if made else "pool: the pool is full")
            first = False
            if made == 0:
                self._wake.wait(self.interval)
                self._wake.clear()

    def _written(self, count: int) -> None:
        if self.say and self.created == 0:
            self.say(f"pool: first pair ready, {time.monotonic() - self.started_at:.0f} s after start")
        self.created += count
