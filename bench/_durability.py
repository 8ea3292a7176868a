"""The vote-durability run shared by `bench/vote_durability.py` and tests/reliability: raters
vote through `studio serve`, the server is killed with SIGKILL part-way, started again, the
raters resend what was not acknowledged, and the database is checked against what they
were told.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench._raters import Ledger, ServeProcess, gradio_rater


@dataclass
class CrashReport:
    raters: int
    sent: int                     # distinct votes (idempotency keys) the raters sent
    acknowledged: int             # ... that the server answered, at once or on a resend
    resent: int                   # sends repeated because the server went away
    found: int                    # acknowledged keys present in the database
    lost: int                     # acknowledged keys missing from it (must be 0)
    duplicated: int               # keys stored more than once (must be 0)
    double_votes: int             # (rater, item) pairs voted more than once (must be 0)
    unacknowledged_stored: int    # keys stored but never acknowledged (allowed; reported)
    integrity: str                # PRAGMA integrity_check ("ok"; PostgreSQL: "ok")
    seconds: float                # the whole run, downtime included
    acked_before_kill: int
    restart_serving_s: float      # restart -> the page answers again
    first_vote_after_restart_s: float | None   # restart -> the first vote acknowledged
    errors: list[str] = field(default_factory=list)

    @property
    def votes_per_s(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return (not self.errors and self.lost == 0 and self.duplicated == 0 and self.double_votes == 0
                and self.integrity == "ok" and self.sent == self.acknowledged == self.found)

    def lines(self) -> list[str]:
        first = "n/a" if self.first_vote_after_restart_s is None else f"{self.first_vote_after_restart_s:.1f} s"
        return [
            f"raters {self.raters}: sent {self.sent}, acknowledged {self.acknowledged} "
            f"({self.acked_before_kill} before the SIGKILL), resent after the crash {self.resent}",
            f"in the database: found {self.found}, lost {self.lost}, duplicated {self.duplicated}, "
            f"double votes {self.double_votes}, stored but never acknowledged {self.unacknowledged_stored}",
            f"integrity_check: {self.integrity}; {self.votes_per_s:.1f} votes/s over {self.seconds:.1f} s "
            f"(downtime included)",
            f"restarted server: page again after {self.restart_serving_s:.1f} s, first vote acknowledged "
            f"after {first}",
            *[f"error: {e}" for e in self.errors[:5]],
        ]


def crash_run(data_dir: Path, *, raters: int, votes: int, kill_at: int, max_seconds: float,
              call_timeout: float = 30.0, log: Path | None = None) -> CrashReport:
    """`raters` gradio_client raters, `votes` each, against `studio serve` on `data_dir`
    (a warm pool already there); SIGKILL once `kill_at` votes are acknowledged, restart."""
    server = ServeProcess(data_dir, log=log).start()
    ledger = Ledger()
    restart = {"at": None, "serving": None, "first": None}
    reached = threading.Event()

    def on_vote(sent_at: float) -> None:
        if ledger.acked >= kill_at:
            reached.set()
        if restart["at"] is not None and sent_at >= restart["at"] and restart["first"] is None:
            restart["first"] = time.monotonic() - restart["at"]     # sent to the restarted server

    try:
        server.wait_serving()
        started = time.monotonic()
        deadline = started + max_seconds
        threads = [threading.Thread(target=gradio_rater, args=(server.url, f"rater-{i:02d}", votes, deadline, i,
                                                               ledger),
                                    kwargs=dict(call_timeout=call_timeout, recover_until=deadline + 300,
                                                on_vote=on_vote), daemon=True)
                   for i in range(raters)]
        for thread in threads:
            thread.start()
        reached.wait(timeout=max_seconds)
        acked_before = ledger.acked
        server.kill()
        restart["at"] = time.monotonic()
        server.start()
        restart["serving"] = server.wait_serving()
        for thread in threads:
            thread.join(timeout=max_seconds + 600)
        seconds = time.monotonic() - started
    finally:
        server.stop()
    duplicated, double_votes, stored, integrity = check_database(data_dir, ledger)
    acked = ledger.acknowledged
    return CrashReport(raters=raters, sent=len(ledger.sent), acknowledged=len(acked), resent=ledger.resent,
                       found=len(acked & stored), lost=len(acked - stored), duplicated=duplicated,
                       double_votes=double_votes, unacknowledged_stored=len(stored - acked), integrity=integrity,
                       seconds=seconds, acked_before_kill=acked_before, restart_serving_s=restart["serving"],
                       first_vote_after_restart_s=restart["first"], errors=list(ledger.errors))


def check_database(data_dir: Path, ledger: Ledger) -> tuple[int, int, set[str], str]:
    """(keys stored twice, (rater, item) pairs voted twice, keys stored, integrity),
    read the way a user reads the votes: the studio's own JSON Lines export and
    `Studio.comparisons`."""
    from studio.api import Studio

    with Studio.open(data_dir) as studio, tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "votes.jsonl"
        studio.export(path, format="jsonl", ties="keep", progress=False)   # every vote
        keys = [json.loads(line)["idempotency_key"] for line in path.read_text(encoding="utf-8").splitlines()]
        frame = studio.comparisons(with_content=False)
        double_votes = int(frame.duplicated(subset=["rater", "item_id"]).sum())
        integrity = studio.store.integrity_check()
    if len(keys) != len(frame):
        ledger.error(f"the export holds {len(keys)} votes, the database {len(frame)}")
    return len(keys) - len(set(keys)), double_votes, set(keys), integrity
