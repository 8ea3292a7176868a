"""Run the `studio` command line in this process, through its real entry point."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path


def run_cli(args: list[str], data_dir: Path | None = None, stdin: str = "") -> tuple[int, str, str]:
    """`studio ARGS [--data DATA_DIR]` via `studio.cli.main`; (exit code, stdout, stderr)."""
    from studio.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv, stdin_before = sys.argv, sys.stdin
    data = ["--data", str(data_dir)] if data_dir is not None and args[0] != "users" else []
    sys.argv, sys.stdin = ["studio", *args, *data], io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        sys.argv, sys.stdin = argv, stdin_before
    return code, out.getvalue(), err.getvalue()
