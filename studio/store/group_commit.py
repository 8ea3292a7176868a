"""Group commit: the short write transactions of concurrent callers (the arena's votes) run
one after another inside one database transaction, so many of them share one commit, one
fsync and one turn at SQLite's write lock.

    committer = GroupCommitter(store.transaction)
    result = committer.run(lambda tx: tx.votes.record(vote))   # returns once committed

A caller's work runs in its own savepoint: when it raises, only its own writes are undone
and the exception reaches that caller; the others in the batch still commit. `run` returns
only after the batch's COMMIT succeeded, so an acknowledged vote is a durable vote; if the
commit fails, every caller in the batch gets the error and nothing of the batch is written.
Work arriving while a batch commits waits for the next one (there is no timer: a lone
caller is committed at once).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, TypeVar

T = TypeVar("T")
_STOP = object()


class GroupCommitter:
    def __init__(self, transaction: Callable[[], AbstractContextManager[Any]], *, max_batch: int = 64):
        self._transaction = transaction
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.batches = 0        # committed batches and the work they carried (for benchmarks)
        self.committed = 0

    def run(self, work: Callable[[Any], T]) -> T:
        """Run `work(tx)` in the next batch; its result once the batch is committed."""
        return self.submit(work).result()

    def submit(self, work: Callable[[Any], T]) -> Future:
        """Queue `work(tx)`; the future resolves after the commit of the batch that ran it."""
        future: Future = Future()
        self._start()
        self._queue.put((work, future))
        return future

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued work and stop the writer thread (it restarts on the next submit)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    def _start(self) -> None:
        if self._running():
            return
        with self._lock:
            if not self._running():       # first use, a forked child, or after stop()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, name="studio-group-commit", daemon=True)
                self._thread.start()

    def _running(self) -> bool:
        thread = self._thread
        return thread is not None and self._pid == os.getpid() and thread.is_alive()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Callable[[Any], Any], Future]]) -> None:
        done: list[tuple[Future, Any, BaseException | None]] = []
        try:
            with self._transaction() as tx:
                for work, future in batch:
                    if not future.set_running_or_notify_cancel():
                        continue
                    try:
                        with tx.session.begin_nested():
                            value = work(tx)
                    except Exception as exc:    # noqa: BLE001 - handed to its caller
                        done.append((future, None, exc))
                    else:
                        done.append((future, value, None))
        except BaseException as exc:            # noqa: BLE001 - the commit failed: nothing is written
            for _, future in batch:
                if not future.done() and (future.running() or future.set_running_or_notify_cancel()):
                    future.set_exception(exc)
            return
        self.batches += 1
        self.committed += len(done)
        for future, value, error in done:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
