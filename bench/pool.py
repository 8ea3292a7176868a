"""Does the pool keep up? `studio demo` (its two SmolLM2 contenders, 50 starter prompts) from
the command's start, before and after, in one run.

    python bench/pool.py --base /work/wt/ux-base            # 5 minutes of paced voting per side
    python bench/pool.py --base /work/wt/ux-base --quick    # 2 minutes per side (a smoke run)

Each side is a source tree (`--base`: a git worktree of the branch point; the other side is
this tree) run as `python -m studio.cli demo --no-worker` on a fresh data dir, with the
converted model already in the cache (an installed venv). Measured per side:

- first pair: seconds from starting the command until `GET /api/next` hands out a pair;
- a paced rater: from then on, one vote every 10 s through `POST /api/vote` (its next pair
  comes with the answer); whenever no pair is ready it polls every 0.25 s, and the time until
  one comes is a wait (count, total, longest, and when each began: a wait in the first
  minute is the warm-up, one later means the pool fell behind);
- pairs per minute: pool items made between the first pair and the end, per minute.

The sides run one after the other, so `uptime`'s load is printed before each.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PACE_S = 10.0
POLL_S = 0.25


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, body: dict | None = None) -> dict | None:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def pool_items(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM rating_items WHERE source = 'pool'").fetchone()[0]
    except sqlite3.Error:
        return 0


def run_side(label: str, tree: Path, seconds: float) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix=f"bench-pool-{label}-") as tmp:
        data = Path(tmp) / "studio-data"
        env = {**os.environ, "PYTHONPATH": str(tree), "GRADIO_ANALYTICS_ENABLED": "False"}
        log = open(Path(tmp) / "log.txt", "w")        # noqa: SIM115 (closed below)
        started = time.monotonic()
        process = subprocess.Popen([sys.executable, "-m", "studio.cli", "demo", "--data", str(data), "--port",
                                    str(port), "--no-worker"], cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            pair = None
            while pair is None:
                if process.poll() is not None:
                    raise SystemExit(f"{label}: the studio exited: {(Path(tmp) / 'log.txt').read_text()[-2000:]}")
                answer = call(f"{base}/api/next?rater=bench")
                pair = answer.get("next") if answer else None
                if pair is None:
                    time.sleep(POLL_S)
            first = time.monotonic() - started
            items_at_first = pool_items(data / "studio.db")
            t_first = time.monotonic()
            waits: list[float] = []
            began: list[float] = []         # when each wait began, seconds after the first pair
            votes = 0
            next_vote = time.monotonic() + PACE_S
            while time.monotonic() - t_first < seconds:
                time.sleep(max(0.0, next_vote - time.monotonic()))
                answer = call(f"{base}/api/vote", {"item_id": pair["item_id"], "outcome": "left", "rater": "bench",
                                                   "idempotency_key": f"bench-{pair['item_id']}"})
                votes += 1
                pair = answer.get("next") if answer else None
                if pair is None:
                    waited = time.monotonic()
                    began.append(round(waited - t_first, 1))
                    while pair is None:
                        time.sleep(POLL_S)
                        answer = call(f"{base}/api/next?rater=bench")
                        pair = answer.get("next") if answer else None
                    waits.append(time.monotonic() - waited)
                next_vote = time.monotonic() + PACE_S
            elapsed = time.monotonic() - t_first
            made = pool_items(data / "studio.db") - items_at_first
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()
    return {"side": label, "first_pair_s": round(first, 1), "pairs_per_min": round(made / elapsed * 60, 2),
            "votes": votes, "waits": len(waits), "wait_total_s": round(sum(waits), 1),
            "wait_max_s": round(max(waits, default=0.0), 1), "waits_began_s": began}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="source tree of the 'before' side")
    parser.add_argument("--quick", action="store_true", help="2 minutes of paced voting per side")
    parser.add_argument("--sides", default="before,after", help="which sides to run (default both)")
    args = parser.parse_args()
    sides = {side.strip() for side in args.sides.split(",")}
    seconds = 120.0 if args.quick else 300.0
    rows = []
    for label, tree in (("before", args.base.resolve()), ("after", HERE)):
        if label not in sides:
            continue
        load = os.getloadavg()
        print(f"{label}: {tree} (load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})", flush=True)
        rows.append(run_side(label, tree, seconds))
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{'side':8} {'first pair s':>13} {'pairs/min':>10} {'votes':>6} {'waits':>6} {'waited s':>9} "
          f"{'longest s':>10}  waits began (s after the first pair)")
    for r in rows:
        print(f"{r['side']:8} {r['first_pair_s']:>13} {r['pairs_per_min']:>10} {r['votes']:>6} {r['waits']:>6} "
              f"{r['wait_total_s']:>9} {r['wait_max_s']:>10}  {', '.join(map(str, r['waits_began_s'])) or '-'}")


if __name__ == "__main__":
    main()
