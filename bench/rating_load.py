"""Rating under load: vote-to-next-pair latency with 32 raters voting at once.

    python bench/rating_load.py                 # 32 raters x 40 votes (at most 120 s), SmolLM2 on demand
    python bench/rating_load.py --quick         # 8 raters x 10 votes, tiny model on demand (a smoke run)

The app runs in its own process on loopback (`studio.ui` as `studio serve` builds it, no
worker, no pool thread) over a SQLite studio whose pool is warm: one ready pair for every
vote the raters will cast, stored texts imported through the Studio API. Each simulated rater is a
`gradio_client.Client` with its own session: it enters a name, then votes on the pair it
was shown (a random choice of A/B/tie/both bad) and gets the next pair in the response,
as fast as it can (no thinking time), until its votes or the time bound run out.

Printed: p50/p95/p99 of vote-to-next-pair latency measured at the client (the whole
round trip through Gradio's queue) and at the server (the vote handler: the vote and the
next pair, one committed transaction), the handler thread's CPU time (the database work
runs on the store's group-commit writer thread, so it is counted only in the next figure) and the server
process's CPU per vote (these two do not grow when other programs share the CPU, the wall
times do), and the ratio against generating the pair on demand (`Studio.free_prompt`: both
contenders answer a prompt, as a rater would wait for without a pool). Goal: server-side
p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._raters import Ledger, free_port, gradio_rater, percentiles, warm_pool  # noqa: E402

ON_DEMAND_PROMPT = "Give three tips for keeping a houseplant alive while travelling."


# -- the server (a child process) ---------------------------------------------------------

def serve(data_dir: Path, port: int, echo_port: int) -> None:
    """Serve the app; time every vote handler call. Commands on stdin: `timings` prints the
    timings so far and starts afresh, `stop` ends. A one-line echo app on `echo_port` shows
    what a gradio_client round trip costs when the handler does nothing."""
    import gradio as gr

    from studio.api import Studio
    from studio.ui import arena
    from studio.ui.app import build_app, launch
    from studio.ui.options import ServeOptions

    timings: list[float] = []
    cpu_timings: list[float] = []
    lock = threading.Lock()
    handler = arena.ArenaHandlers.vote

    def timed_vote(self, *args, **kwargs):
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            return handler(self, *args, **kwargs)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.thread_time() - cpu_started) * 1000
            with lock:
                timings.append(elapsed)
                cpu_timings.append(cpu)

    arena.ArenaHandlers.vote = timed_vote     # measure the real handler, as the app calls it
    studio = Studio.open(data_dir)
    options = ServeOptions.from_config(studio.config, port=port)
    demo = build_app(studio, options)
    launch(demo, options, prevent_thread_lock=True, quiet=True)
    with gr.Blocks(analytics_enabled=False) as echo:
        box = gr.Textbox()
        box.submit(lambda text: text, box, box, api_name="echo")
    echo.launch(server_port=echo_port, prevent_thread_lock=True, quiet=True, footer_links=[], run_history=False,
                enable_monitoring=False)
    print("READY", flush=True)
    for command in sys.stdin:
        if command.strip() == "timings":
            with lock:
                print(json.dumps({"server_ms": timings, "handler_cpu_ms": cpu_timings,
                                  "process_cpu_s": time.process_time()}), flush=True)
                timings.clear()
                cpu_timings.clear()
        else:
            break
    echo.close()
    demo.close()
    studio.close()


# -- the raters: bench/_raters.py (gradio_client, one session each) -------------------------

def on_demand_seconds(kind: str, runs: int) -> tuple[float, str] | None:
    """Median wall time to generate one pair for a typed prompt (`Studio.free_prompt`)."""
    from studio.api import Studio

    if kind == "none":
        return None
    with tempfile.TemporaryDirectory() as directory, Studio.open(Path(directory) / "data") as studio:
        if kind == "smollm2":
            from studio.generation.builtin import demo_contenders

            specs = demo_contenders()
        else:
            from studio.generation.tiny import tiny_text_contenders

            specs = tiny_text_contenders(Path(directory) / "models", max_new_tokens=64)
        names = tuple(studio.add_contender(s).name for s in specs)
        for _ in studio.free_prompt(ON_DEMAND_PROMPT, "bench", contenders=names):   # load the models once
            pass
        times = []
        for run in range(runs):
            started = time.perf_counter()
            for _ in studio.free_prompt(f"{ON_DEMAND_PROMPT} ({run})", "bench", contenders=names):
                pass
            times.append(time.perf_counter() - started)
        label = " vs ".join(s.model if kind == "tiny" else s.name for s in specs)
        return statistics.median(times), f"{kind}: {label}, max_new_tokens={specs[0].params.get('max_new_tokens')}"


class Server:
    """The app in a child process, and the commands it understands."""

    def __init__(self, data_dir: Path):
        self.port, self.echo_port = free_port(), free_port()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(data_dir), "--port", str(self.port),
             "--echo-port", str(self.echo_port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if not any(line.strip() == "READY" for line in iter(self.process.stdout.readline, "")):
            raise SystemExit("the app did not start")
        self.url = f"http://127.0.0.1:{self.port}/"

    def timings(self) -> dict:
        """Handler wall and CPU times since the last call, and the server's CPU seconds so far."""
        self.process.stdin.write("timings\n")
        self.process.stdin.flush()
        for line in iter(self.process.stdout.readline, ""):
            if line.startswith('{"server_ms"'):        # Gradio prints its own lines too
                return json.loads(line)
        raise SystemExit("the app stopped without reporting its timings")

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def client_floor(echo_url: str, calls: int = 30) -> float:
    """Median gradio_client round trip to a handler that does nothing (the client's own cost)."""
    from gradio_client import Client

    client = Client(echo_url, verbose=False, analytics_enabled=False, download_files=False)
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        client.predict("x", api_name="/echo")
        times.append((time.perf_counter() - started) * 1000)
    client.close()
    return statistics.median(times)


def load(server: Server, raters: int, votes: int, think: float, max_seconds: float, phase: str) -> dict:
    cpu_before = server.timings()["process_cpu_s"]
    deadline = time.monotonic() + max_seconds
    started = time.monotonic()
    ledger = Ledger()
    with ThreadPoolExecutor(max_workers=raters) as pool:
        list(pool.map(lambda i: gradio_rater(server.url, f"{phase}-rater-{i:02d}", votes, deadline, i, ledger,
                                             think=think), range(raters)))
    seconds = time.monotonic() - started
    timings = server.timings()
    if ledger.errors:
        raise SystemExit(f"raters failed: {ledger.errors[:3]}")
    return {"client_ms": ledger.latencies_ms, "server_ms": timings["server_ms"],
            "handler_cpu_ms": timings["handler_cpu_ms"], "server_cpu_s": timings["process_cpu_s"] - cpu_before,
            "seconds": seconds, "think": think, "raters": raters}


def report(run: dict) -> float:
    client_ms, server_ms = run["client_ms"], run["server_ms"]
    votes = len(client_ms)
    print(f"\n{run['raters']} raters, mean think time {run['think']:g} s: {votes} votes in "
          f"{run['seconds']:.1f} s ({votes / run['seconds']:.1f} votes/s)")
    print(f"{'vote -> next pair (ms)':<28}{'p50':>8}{'p95':>8}{'p99':>8}")
    for label, values in (("client (gradio_client)", client_ms), ("server (vote handler)", server_ms),
                          ("  handler thread's CPU", run["handler_cpu_ms"])):
        p50, p95, p99 = percentiles(values)
        print(f"{label:<28}{p50:>8.1f}{p95:>8.1f}{p99:>8.1f}")
    print(f"server process CPU per vote (Gradio and handler, all threads): "
          f"{run['server_cpu_s'] * 1000 / max(votes, 1):.1f} ms")
    return percentiles(server_ms)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 raters x 10 votes, tiny model on demand")
    parser.add_argument("--raters", type=int, default=None)
    parser.add_argument("--votes", type=int, default=None, help="votes per rater")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop each run after this long")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a rater reads a pair before voting in the first run (default 2); "
                             "a second run votes with no pause (a stress test)")
    parser.add_argument("--on-demand", choices=("smollm2", "tiny", "none"), default=None)
    parser.add_argument("--on-demand-runs", type=int, default=3)
    parser.add_argument("--serve", metavar="DATA_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--echo-port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve), args.port, args.echo_port)
        return
    raters = args.raters or (8 if args.quick else 32)
    votes = args.votes or (10 if args.quick else 40)
    on_demand = args.on_demand or ("tiny" if args.quick else "smollm2")

    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory) / "data"
        ready = 2 * raters * (votes + 1)
        made = time.perf_counter()
        warm_pool(data_dir, ready)
        print(f"warm pool: {ready} ready pairs in {time.perf_counter() - made:.1f} s; app in its own process, "
              f"SQLite synchronous=FULL, no worker, no pool thread")
        server = Server(data_dir)
        try:
            floor = client_floor(f"http://127.0.0.1:{server.echo_port}/")
            runs = [load(server, raters, votes, args.think, args.max_seconds, "paced"),
                    load(server, raters, votes, 0.0, args.max_seconds, "flat-out")]
        finally:
            server.stop()
    print(f"gradio_client round trip to a handler that does nothing: {floor:.1f} ms (median)")
    paced_p95 = report(runs[0])
    report(runs[1])
    print(f"\ngoal: server p95 < 50 ms with raters pacing themselves: "
          f"{'met' if paced_p95 < 50 else 'NOT met'} ({paced_p95:.1f} ms)")
    measured = on_demand_seconds(on_demand, args.on_demand_runs)
    if measured:
        seconds, label = measured
        client_p50, server_p50 = percentiles(runs[0]["client_ms"])[0], percentiles(runs[0]["server_ms"])[0]
        print(f"\non demand ({label}): one pair in {seconds:.2f} s (median of {args.on_demand_runs})")
        print(f"the warm pool is {seconds * 1000 / client_p50:,.0f}x faster at the client p50 and "
              f"{seconds * 1000 / server_p50:,.0f}x at the server p50 (paced run)")


if __name__ == "__main__":
    main()
