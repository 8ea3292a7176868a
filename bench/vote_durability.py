"""Votes under load, with a crash: is every acknowledged vote stored exactly once?

    python bench/vote_durability.py                    # SQLite: 32 raters x 40 votes, SIGKILL half-way
    python bench/vote_durability.py --postgres         # the same on a throwaway PostgreSQL (Debian binaries)
    python bench/vote_durability.py --database-url postgresql://user@host/db   # an empty database of yours
    python bench/vote_durability.py --quick            # 8 raters x 10 votes, 3 x 3 double votes, 5 s throughput runs

1. Crash: `studio serve --no-worker --no-pool` runs as a child process on loopback over a
   warm pool (pairs of stored texts imported through the Studio API). 32 raters, each a
   `gradio_client.Client` with its own session, vote as fast as they are answered (bounded
   in count and time). Once half the votes are acknowledged the server gets SIGKILL and is
   started again; raters sign in again and resend every unacknowledged vote with the same
   token, so the same idempotency key. Then the database is read back (the studio's own
   export) and checked: every acknowledged vote is there exactly once, no rater voted twice
   on an item, `PRAGMA integrity_check` is ok. Printed: sent, acknowledged, found, lost (0),
   duplicated (0), votes/s, and how long the restarted server took to serve again.
2. Double votes: on a fresh server, raters with two tabs on the same pair vote in both at
   once (the second tab must be told "already saved as ..."), raters reload the page before
   their vote is answered and vote on what the reload shows, and intruders `POST /api/vote`
   on items never handed to them (each must be refused with 409). Then the database, every
   stored row included, must hold one vote per rater per pair: double votes 0.
3. Throughput: sustained votes/s on a fresh server from lean clients (asyncio, keep-alive),
   through the arena's Gradio event (what the page does) and through `POST /api/vote`
   (the JSON vote API), side by side, with the server's CPU per vote. Goal: 500 votes/s.

Each gradio_client call costs the client tens of milliseconds of CPU, so 32 of them on a
small machine measure the client more than the server; the throughput runs do not use it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._durability import crash_run, double_vote_run  # noqa: E402
from bench._raters import ServeProcess, warm_pool  # noqa: E402
from bench._throughput import HEADER, measure  # noqa: E402


@contextlib.contextmanager
def postgres_database():
    """A throwaway PostgreSQL server (tests.services), with fsync turned back on so its
    commits are as durable as SQLite's synchronous=FULL ones."""
    import psycopg

    from tests import services

    try:
        server = services.start_postgres()
    except BaseException as exc:            # pytest.skip outside pytest: the binaries are missing
        raise SystemExit(f"cannot start PostgreSQL: {exc}") from None
    try:
        with psycopg.connect(server.admin_url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET fsync = on")
            conn.execute("SELECT pg_reload_conf()")
        yield server.create_database()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 raters x 10 votes, 5 s throughput runs")
    parser.add_argument("--raters", type=int, default=None, help="gradio_client raters in the crash run (32)")
    parser.add_argument("--votes", type=int, default=None, help="votes per rater in the crash run (40)")
    parser.add_argument("--kill-at", type=float, default=0.5, help="SIGKILL once this share of the votes "
                                                                    "is acknowledged (default 0.5)")
    parser.add_argument("--max-seconds", type=float, default=180.0, help="time bound of the crash run's voting")
    parser.add_argument("--double-raters", type=int, default=None, help="raters per double-vote case (8)")
    parser.add_argument("--double-rounds", type=int, default=None, help="pairs each of them double-votes on (10)")
    parser.add_argument("--throughput-raters", type=int, default=32)
    parser.add_argument("--throughput-seconds", type=float, default=None, help="length of each throughput run (15)")
    parser.add_argument("--no-throughput", action="store_true", help="only the crash run")
    parser.add_argument("--database-url", help="an empty PostgreSQL database to run on (default: SQLite)")
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL and run on it")
    args = parser.parse_args()
    raters = args.raters or (8 if args.quick else 32)
    votes = args.votes or (10 if args.quick else 40)
    seconds = args.throughput_seconds or (5.0 if args.quick else 15.0)
    double_raters = args.double_raters or (3 if args.quick else 8)
    double_rounds = args.double_rounds or (3 if args.quick else 10)

    with contextlib.ExitStack() as stack:
        url = args.database_url or (stack.enter_context(postgres_database()) if args.postgres else None)
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "data"
        backend = "PostgreSQL (fsync on)" if url else "SQLite (WAL, synchronous=FULL)"
        pool = (raters * votes * 2 + double_raters * (double_rounds * 4 + 2)
                + (0 if args.no_throughput else int(2 * seconds * 700)))
        made = time.perf_counter()
        warm_pool(data_dir, pool, database_url=url)
        print(f"{backend}: warm pool of {pool} pairs imported in {time.perf_counter() - made:.1f} s; "
              f"`studio serve --no-worker --no-pool` in a child process")

        print(f"\n1. crash: {raters} gradio_client raters x {votes} votes, SIGKILL after "
              f"{int(raters * votes * args.kill_at)} acknowledged")
        client_noise = io.StringIO()       # gradio_client prints a traceback for each broken stream
        with contextlib.redirect_stderr(client_noise):
            report = crash_run(data_dir, raters=raters, votes=votes, kill_at=int(raters * votes * args.kill_at),
                               max_seconds=args.max_seconds, log=data_dir / "serve.log")
        for line in report.lines():
            print(f"   {line}")
        print(f"   {'PASS' if report.ok else 'FAIL'}: lost {report.lost}, duplicated {report.duplicated}, "
              f"double votes {report.double_votes}, integrity {report.integrity}")

        print(f"\n2. double votes: {double_raters} raters with two tabs and {double_raters} reloading, "
              f"{double_rounds} pairs each; API votes on items never handed out")
        with contextlib.redirect_stderr(client_noise):
            doubles = double_vote_run(data_dir, raters=double_raters, rounds=double_rounds,
                                      log=data_dir / "serve-double.log")
        for line in doubles.lines():
            print(f"   {line}")
        print(f"   {'PASS' if doubles.ok else 'FAIL'}: double votes {doubles.double_votes}, API votes on items "
              f"not handed out written {doubles.written_by_intruders}")

        if not args.no_throughput:
            print(f"\n3. sustained votes/s, {args.throughput_raters} lean raters flat out for {seconds:g} s each "
                  f"(goal 500 votes/s)")
            server = ServeProcess(data_dir, log=data_dir / "serve-throughput.log").start()
            try:
                server.wait_serving()
                runs = [measure(server, path, args.throughput_raters, seconds) for path in ("gradio_queue", "json_api")]
            finally:
                server.stop()
            print(HEADER)
            for run in runs:
                print(run.row())
    sys.exit(0 if report.ok and doubles.ok else 1)


if __name__ == "__main__":
    main()
