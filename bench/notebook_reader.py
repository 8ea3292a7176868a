"""Does a notebook reading the database slow the raters down? Vote latency with and without
a reader in another process, on a SQLite studio that already holds many votes.

    python bench/notebook_reader.py                       # 100,000 votes in the studio, 300 new per run
    python bench/notebook_reader.py --votes 20000 --new 100   # a quick run

A SQLite studio is filled with synthetic votes (the exports' bulk fill). Then, for each
scenario, a writer process casts `--new` votes one at a time through `Studio.vote` (one
transaction and one fsync each, as the arena does) and records each call's wall time:

- alone: nobody else uses the database.
- notebook reading: a second process loops over what notebook 01 reads: `comparisons()`
  (every vote with its texts), `leaderboard(bootstrap=100)`, `agreement()`, `overview()`;
  the writer goes on past `--new` votes until the reader has been through that twice.
- read held open: a second process opens one read transaction, reads every vote, and keeps
  the transaction open until the writer is done (a notebook cell iterating slowly).

Printed side by side: vote latency p50 / p95 / p99 / max in ms, the writer's CPU ms per
vote, and how many full read rounds the reader finished meanwhile. In WAL mode the reader
never takes a lock the writer waits for, so the latencies should stay close to "alone"
(on a shared machine, CPU contention from the reader still shows in the wall times).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTENDERS = 20
SCENARIOS = ("alone", "notebook reading", "read held open")
READ_ROUNDS = 2             # the writer goes on until the reader has read everything this often


def fill(data_dir: Path, votes: int) -> None:
    from _fill import bulk_fill

    from studio.store import Store

    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{data_dir / 'studio.db'}", synchronous="OFF")
    try:
        with store.transaction() as tx:
            bulk_fill(tx.session, comparisons=votes, prompts=max(100, votes // 10), contenders=CONTENDERS)
    finally:
        store.close()


def open_studio(data_dir: str):
    from studio.api import Studio
    from studio.config import TrainingConfig

    return Studio.open(data_dir, training=TrainingConfig(retrain_every=0))


def _writer(data_dir: str, new: int, run: str, read_enough, ready, done, results) -> None:
    """Cast at least `new` votes, and go on until the reader has finished READ_ROUNDS rounds."""
    with open_studio(data_dir) as studio:
        ready.wait(600)
        prompts = int(studio.overview().loc["(all)", "prompts"])
        latencies = []
        cpu = time.process_time()
        n = -1
        while n + 1 < new or not read_enough.is_set():
            n += 1
            prompt = n % prompts
            left, right = prompt * CONTENDERS + 1, prompt * CONTENDERS + 2
            started = time.perf_counter()
            studio.vote(left=left, right=right, outcome=("left", "right", "tie")[n % 3], rater=f"rater-{n % 7}",
                        idempotency_key=f"bench-{run}-{n}", decision_ms=2000)
            latencies.append((time.perf_counter() - started) * 1000)
        cpu = time.process_time() - cpu
    done.set()
    results.put(("writer", latencies, cpu))


def _reader(data_dir: str, mode: str, read_enough, ready, done, results) -> None:
    rounds = 0
    with open_studio(data_dir) as studio:
        if mode == "read held open":
            with studio.store.reader() as tx:
                tx.frames.comparisons()
                ready.set()
                read_enough.set()
                done.wait(600)
                rounds = 1
        else:
            ready.set()
            while not done.is_set():
                studio.comparisons()
                studio.leaderboard(bootstrap=100)
                studio.agreement()
                studio.overview()
                rounds += 1
                if rounds >= READ_ROUNDS:
                    read_enough.set()
    results.put(("reader", rounds, None))


def child(role: str, *args) -> None:
    """A benchmark process; a failure goes back to the parent instead of leaving it waiting."""
    ready, done, results = args[-3:]
    try:
        (_writer if role == "writer" else _reader)(*args)
    except BaseException:
        import traceback

        results.put(("error", traceback.format_exc(), None))
        ready.set()                 # let the other process finish
        done.set()


def run(data_dir: Path, scenario: str, new: int) -> dict:
    context = multiprocessing.get_context("spawn")
    read_enough, ready, done, results = context.Event(), context.Event(), context.Event(), context.Queue()
    processes = [context.Process(target=child, args=("writer", str(data_dir), new, scenario.replace(" ", "-"),
                                                      read_enough, ready, done, results))]
    if scenario == "alone":
        ready.set()
        read_enough.set()
    else:
        processes.append(context.Process(target=child, args=("reader", str(data_dir), scenario, read_enough, ready,
                                                              done, results)))
    for process in processes:
        process.start()
    got = {}
    for _ in processes:
        role, value, cpu = results.get(timeout=3600)
        if role == "error":
            raise RuntimeError(f"a benchmark process failed:\n{value}")
        got[role] = (value, cpu)
    for process in processes:
        process.join()
    latencies, cpu = got["writer"]
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"scenario": scenario, "votes": len(ordered), "p50": statistics.median(ordered), "p95": pct(0.95), "p99": pct(0.99),
            "max": ordered[-1], "cpu_ms": cpu * 1000 / len(latencies),
            "reads": got.get("reader", (None, None))[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=100_000, help="votes already in the studio (default 100000)")
    parser.add_argument("--new", type=int, default=300, help="votes the writer casts per scenario (default 300)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-notebook-") as temp:
        data_dir = Path(temp) / "data"
        started = time.perf_counter()
        fill(data_dir, args.votes)
        print(f"filled {args.votes:,} votes in {time.perf_counter() - started:.1f}s; {args.new} new votes per scenario")
        print(f"{'scenario':<18}{'votes':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'cpu ms/vote':>13}"
              f"{'reader rounds':>15}")
        for scenario in SCENARIOS:
            row = run(data_dir, scenario, args.new)
            reads = "-" if row["reads"] is None else str(row["reads"])
            print(f"{row['scenario']:<18}{row['votes']:>7}{row['p50']:>9.1f}{row['p95']:>9.1f}{row['p99']:>9.1f}{row['max']:>9.1f}"
                  f"{row['cpu_ms']:>13.2f}{reads:>15}")


if __name__ == "__main__":
    main()
