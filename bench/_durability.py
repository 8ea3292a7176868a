"""The vote-durability runs shared by `bench/vote_durability.py` and tests/reliability:

- the crash run: raters vote through `studio serve`, the server is killed with SIGKILL
  part-way, started again, the raters resend what was not acknowledged, and the database is
  checked against what they were told;
- the double-vote run: one rater's two tabs voting on the same pair at once, a page reloaded
  (and voted on again) before its vote was answered, and `POST /api/vote` on items never
  handed to the caller; the database must hold one vote per rater per pair.
"""

from __future__ import annotations

import json
import random
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench._raters import (
    VOTE_ENDPOINTS,
    Ledger,
    ServeProcess,
    call,
    connect,
    gradio_rater,
    sign_in,
    token_in,
    token_key,
)


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
    unacknowledged_stored: int    # keys these raters sent, stored but never acknowledged (allowed; reported)
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
              call_timeout: float = 30.0, log: Path | None = None, server: ServeProcess | None = None) -> CrashReport:
    """`raters` gradio_client raters, `votes` each, against `studio serve` on `data_dir`
    (a warm pool already there); SIGKILL once `kill_at` votes are acknowledged, restart.
    `server`: one already started on `data_dir` (e.g. after `double_vote_run`), stopped here."""
    server = server or ServeProcess(data_dir, log=log).start()
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
                       double_votes=double_votes, unacknowledged_stored=len((stored & set(ledger.sent)) - acked), integrity=integrity,
                       seconds=seconds, acked_before_kill=acked_before, restart_serving_s=restart["serving"],
                       first_vote_after_restart_s=restart["first"], errors=list(ledger.errors))


# -- double votes ------------------------------------------------------------------------------

@dataclass
class DoubleVoteReport:
    raters: int
    tab_pairs: int                # pairs open in two tabs of one rater, voted in both at once
    told_already: int             # ... second votes the page answered "already saved as ..."
    reloads: int                  # votes followed, before their answer, by a reload and a vote there
    reloads_same_pair: int        # ... where the reloaded page still showed the pair being voted on
    api_unassigned: int           # POST /api/vote on items never handed to the caller
    api_refused: int              # ... answered 409 (must be all)
    written_by_intruders: int     # rows the API intruders managed to write (must be 0)
    double_votes: int             # (rater, item) pairs stored more than once (must be 0)
    seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (not self.errors and self.double_votes == 0 and self.written_by_intruders == 0
                and self.api_refused == self.api_unassigned and self.told_already == self.tab_pairs)

    def lines(self) -> list[str]:
        return [
            f"two tabs of one rater: {self.tab_pairs} pairs voted in both tabs at once, second tab told "
            f"\"already saved as ...\" {self.told_already} times",
            f"reload before the answer: {self.reloads} reloads voted on again "
            f"({self.reloads_same_pair} still showing the pair in flight)",
            f"API votes on items not handed out: {self.api_unassigned} sent, {self.api_refused} refused (409), "
            f"{self.written_by_intruders} written",
            f"in the database: double votes {self.double_votes}; {self.seconds:.1f} s",
            *[f"error: {e}" for e in self.errors[:5]],
        ]


def double_vote_run(data_dir: Path, *, raters: int, rounds: int, log: Path | None = None,
                    server: ServeProcess | None = None) -> DoubleVoteReport:
    """Against a fresh `studio serve` on `data_dir` (a warm pool already there): per rater,
    `rounds` pairs in two tabs and `rounds` reloads before an answer, at the same time as
    intruders voting through the API on items they were never handed. `server`: one already
    started on `data_dir`, left running for the caller (a `crash_run` after it, say)."""
    owned = server is None
    server = server or ServeProcess(data_dir, log=log).start()
    ledger = DoubleVoteLedger()
    try:
        server.wait_serving()
        started = time.monotonic()
        unassigned = _items_handed_to_nobody(data_dir, raters * 2)
        threads = [threading.Thread(target=target, args=(server.url, f"{kind}-{i:02d}", rounds, ledger), daemon=True)
                   for i in range(raters) for kind, target in (("tabs", two_tabs_rater), ("reload", reloading_rater))]
        threads += [threading.Thread(target=api_intruder, args=(server.url, f"intruder-{i}", unassigned, ledger),
                                     daemon=True) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
        seconds = time.monotonic() - started
    finally:
        if owned:
            server.stop()
    double_votes, intruder_rows = _double_votes(data_dir)
    return DoubleVoteReport(raters=raters, tab_pairs=ledger.tab_pairs, told_already=ledger.told_already,
                            reloads=ledger.reloads, reloads_same_pair=ledger.reloads_same_pair,
                            api_unassigned=ledger.api_unassigned, api_refused=ledger.api_refused,
                            written_by_intruders=intruder_rows, double_votes=double_votes, seconds=seconds,
                            errors=list(ledger.errors))


def _items_handed_to_nobody(data_dir: Path, n: int) -> list[int]:
    """The newest `n` open items of the pool (the raters take the oldest first)."""
    from sqlalchemy import select

    from studio.api import Studio
    from studio.store.schema import RatingItem

    with Studio.open(data_dir) as studio, studio.store.reader() as tx:
        return list(tx.session.scalars(select(RatingItem.id).order_by(RatingItem.id.desc()).limit(n)))


def _double_votes(data_dir: Path) -> tuple[int, int]:
    """((rater, item) pairs stored more than once, rows written by the API intruders), over
    every stored row, superseded or not."""
    from studio.api import Studio

    with Studio.open(data_dir) as studio:
        frame = studio.comparisons(with_content=False, include_superseded=True)
    on_items = frame[frame["item_id"].notna()]
    return (int(on_items.duplicated(subset=["rater", "item_id"]).sum()),
            int(frame["rater"].str.startswith("intruder-").sum()))


ALREADY = "already saved as"          # what the page says to a second vote on the same pair


def says_already_saved(result) -> bool:
    return any(isinstance(v, str) and ALREADY in v for v in (result if isinstance(result, list | tuple) else [result]))


@dataclass
class DoubleVoteLedger:
    """What the double-vote raters tried and what the server answered."""

    tab_pairs: int = 0                # pairs open in two tabs of one rater, voted in both at once
    told_already: int = 0             # ... second votes the page answered with "already saved as"
    reloads: int = 0                  # votes sent, then the page reloaded and voted again before the answer
    reloads_same_pair: int = 0        # ... reloads that showed the pair still being voted on
    api_unassigned: int = 0           # POST /api/vote on items never handed to the caller
    api_refused: int = 0              # ... answered 409
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, **counts: int) -> None:
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def two_tabs_rater(url: str, name: str, rounds: int, ledger: DoubleVoteLedger, *, timeout: float = 30.0) -> None:
    """One rater with two tabs on the same open pair, voting in both at once, `rounds` times."""
    rng = random.Random(name)
    try:
        for _ in range(rounds):
            tabs = [sign_in(url, name, deadline=time.monotonic() + 60, timeout=timeout) for _ in range(2)]
            tokens = [token for _, token in tabs]
            if None in tokens or token_key(tokens[0])[0] != token_key(tokens[1])[0]:
                ledger.error(f"{name}: the two tabs did not show the same open pair")
                return
            jobs = [client.submit(token, "", None, api_name=rng.choice(VOTE_ENDPOINTS))
                    for client, token in tabs]
            results = [job.result(timeout=timeout) for job in jobs]
            ledger.add(tab_pairs=1, told_already=sum(says_already_saved(r) for r in results))
            for client, _ in tabs:
                client.close()
    except Exception as exc:           # noqa: BLE001 - reported, and the run fails its checks
        ledger.error(f"{name} (two tabs): {type(exc).__name__}: {exc}")


def reloading_rater(url: str, name: str, rounds: int, ledger: DoubleVoteLedger, *, timeout: float = 30.0) -> None:
    """Vote, and reload the page before the answer comes: the reloaded page shows the rater's
    open pair (the same one while the first vote is not committed) and is voted on at once.
    The reloaded page's connection is opened first, so its start races the vote."""
    rng = random.Random(name)
    try:
        for _ in range(rounds):
            page, token = sign_in(url, name, deadline=time.monotonic() + 60, timeout=timeout)
            if token is None:
                return
            reloaded = connect(url)
            pending = page.submit(token, "", None, api_name=rng.choice(VOTE_ENDPOINTS))
            again = token_in(call(reloaded, name, api_name="/start", timeout=timeout))
            same = again is not None and token_key(again)[0] == token_key(token)[0]
            if again is not None:
                call(reloaded, again, "", None, api_name=rng.choice(VOTE_ENDPOINTS), timeout=timeout)
            pending.result(timeout=timeout)
            ledger.add(reloads=1, reloads_same_pair=int(same))
            page.close()
            reloaded.close()
    except Exception as exc:           # noqa: BLE001 - reported, and the run fails its checks
        ledger.error(f"{name} (reload): {type(exc).__name__}: {exc}")


def api_intruder(url: str, name: str, item_ids: list[int], ledger: DoubleVoteLedger, *, tries: int = 3) -> None:
    """`POST /api/vote` on items never handed to `name`, each `tries` times with new keys."""
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            for item_id in item_ids:
                for _ in range(tries):
                    answer = http.post("/api/vote", json={"item_id": item_id, "outcome": "left", "rater": name,
                                                          "idempotency_key": uuid.uuid4().hex})
                    ledger.add(api_unassigned=1, api_refused=int(answer.status_code == 409))
    except Exception as exc:           # noqa: BLE001 - reported, and the run fails its checks
        ledger.error(f"{name} (api): {type(exc).__name__}: {exc}")



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
        stored = studio.comparisons(with_content=False, include_superseded=True)
        double_votes = int(stored[stored["item_id"].notna()].duplicated(subset=["rater", "item_id"]).sum())
        integrity = studio.store.integrity_check()
    if len(keys) != len(frame):
        ledger.error(f"the export holds {len(keys)} votes, the database {len(frame)}")
    return len(keys) - len(set(keys)), double_votes, set(keys), integrity
