"""Export speed and memory: the studio's streaming export against the naive way.

    python bench/exchange.py                 # 1,000,000 comparisons
    python bench/exchange.py --rows 100000   # a quick run

A SQLite database is filled with synthetic votes by a fast bulk insert (10,000 prompts,
20 contenders, one ~200-character answer per prompt and contender, 100 raters). Then each
method runs in its own child process, so its peak memory (the child's maximum resident set
size, from `os.wait4`) is its own:

- studio jsonl / parquet: `Studio.export(..., format="jsonl" | "parquet", ties="keep")`,
  every vote with every column, read in keyset chunks and written as it goes.
- naive jsonl / parquet: `pandas.read_sql` of the whole join (the same columns, from
  `studio.store.frames.comparisons_query`), then `DataFrame.to_json(lines=True)` /
  `DataFrame.to_parquet()`.

Printed side by side: rows, seconds for the export call, rows/s, the CPU time of the call
(all threads; on a shared machine rows per CPU second says more than wall time), peak
memory, file size. Goals for the studio: >= 100,000 rows/s and peak memory < 500 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

METHODS = ("studio-jsonl", "studio-parquet", "naive-jsonl", "naive-parquet")
GOAL_ROWS_PER_S, GOAL_PEAK_MB = 100_000, 500


def fill(data_dir: Path, rows: int) -> float:
    from _fill import bulk_fill

    from studio.store import Store

    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(f"sqlite:///{data_dir / 'studio.db'}", synchronous="OFF")
    started = time.perf_counter()
    try:
        with store.transaction() as tx:
            bulk_fill(tx.session, comparisons=rows, prompts=min(10_000, max(100, rows // 10)))
    finally:
        store.close()
    return time.perf_counter() - started


def child(method: str, data_dir: Path, out: Path) -> dict:
    """Run one export in this process; return its figures."""
    if method.startswith("studio"):
        from studio.api import Studio

        fmt = method.split("-")[1]
        with Studio.open(data_dir) as studio:
            started, cpu = time.perf_counter(), time.process_time()
            summary = studio.export(out, format=fmt, ties="keep", progress=False)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows = summary.total_rows
    else:
        import pandas as pd
        from sqlalchemy import create_engine

        from studio.store.frames import comparisons_query

        engine = create_engine(f"sqlite:///{data_dir / 'studio.db'}")
        started, cpu = time.perf_counter(), time.process_time()
        with engine.connect() as connection:
            frame = pd.read_sql(comparisons_query(), connection)
        if method == "naive-jsonl":
            frame.to_json(out, orient="records", lines=True, date_format="iso", force_ascii=False)
        else:
            frame.to_parquet(out)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        rows = len(frame)
    return {"rows": rows, "seconds": seconds, "cpu": cpu, "bytes": out.stat().st_size}


def run(method: str, data_dir: Path, out_dir: Path) -> dict:
    out = out_dir / f"{method}.{'parquet' if method.endswith('parquet') else 'jsonl'}"
    process = subprocess.Popen([sys.executable, __file__, "--child", method, "--data", str(data_dir),
                                "--out", str(out)], stdout=subprocess.PIPE, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{method} failed (exit {process.returncode})")
    figures = json.loads(output.strip().splitlines()[-1])
    figures["peak_mb"] = usage.ru_maxrss / 1024          # Linux reports kilobytes
    out.unlink(missing_ok=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="comparisons to fill (default 1,000,000)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed after)")
    parser.add_argument("--child", choices=METHODS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data, args.out)))
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        data_dir, out_dir = Path(work) / "data", Path(work) / "out"
        out_dir.mkdir()
        print(f"filling {args.rows:,} comparisons ...", flush=True)
        seconds = fill(data_dir, args.rows)
        size = (data_dir / "studio.db").stat().st_size / 1e6
        print(f"filled in {seconds:.1f} s ({args.rows / seconds:,.0f} rows/s), database {size:,.0f} MB\n")
        header = (f"{'method':<16}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'CPU s':>8}{'rows/CPU s':>12}"
                  f"{'peak MB':>10}{'file MB':>10}")
        print(header)
        print("-" * len(header))
        results = {}
        for method in METHODS:
            figures = results[method] = run(method, data_dir, out_dir)
            print(f"{method:<16}{figures['rows']:>12,}{figures['seconds']:>10.1f}"
                  f"{figures['rows'] / figures['seconds']:>12,.0f}{figures['cpu']:>8.1f}"
                  f"{figures['rows'] / figures['cpu']:>12,.0f}{figures['peak_mb']:>10,.0f}"
                  f"{figures['bytes'] / 1e6:>10,.0f}", flush=True)
        print()
        for fmt in ("jsonl", "parquet"):
            studio, naive = results[f"studio-{fmt}"], results[f"naive-{fmt}"]
            rate = studio["rows"] / studio["seconds"]
            speed = "met" if rate >= GOAL_ROWS_PER_S else "NOT met"
            memory = "met" if studio["peak_mb"] < GOAL_PEAK_MB else "NOT met"
            print(f"{fmt}: studio {rate:,.0f} rows/s, {studio['peak_mb']:,.0f} MB peak "
                  f"(naive: {naive['peak_mb'] / studio['peak_mb']:.1f}x the memory, "
                  f"{(naive['rows'] / naive['seconds']) / rate:.2f}x the speed): "
                  f"speed goal (>= {GOAL_ROWS_PER_S:,} rows/s) {speed}, memory goal (< {GOAL_PEAK_MB} MB) {memory}")


if __name__ == "__main__":
    main()
