"""A job's progress, written into its row: at most once a second (and at the last step),
with a heartbeat, and read back whether the job should stop at its next step (a cancel
was requested, or the job is no longer running: a reaper failed it). The heartbeat of long
steps is `services.heartbeat`'s thread."""

from __future__ import annotations

import time

from studio.store import Store

REPORT_EVERY_S = 1.0


class JobReporter:
    def __init__(self, store: Store, job_id: int, *, counted_phase: str = "training"):
        self.store = store
        self.job_id = job_id
        self.counted_phase = counted_phase   # the phase whose steps are the job's progress bar
        self.last = 0.0
        self.cancel = False

    def __call__(self, update) -> None:
        """Record an update (anything with phase, step, total_steps, eta_s and loss)."""
        now = time.monotonic()
        if now - self.last < REPORT_EVERY_S and update.step < update.total_steps:
            return
        self.last = now
        message = f"{update.phase}: {update.step}/{update.total_steps}"
        if update.loss is not None:
            message += f", loss {update.loss:.4f}"
        total = update.total_steps if update.phase == self.counted_phase else None
        with self.store.transaction() as tx:
            self.cancel = tx.jobs.report(self.job_id, step=update.step, total_steps=total,
                                         eta_s=update.eta_s, message=message)

    def should_stop(self) -> bool:
        if self.cancel:
            return True
        if time.monotonic() - self.last >= REPORT_EVERY_S:
            with self.store.reader() as tx:
                self.cancel = tx.jobs.should_stop(self.job_id)
        return self.cancel
