"""Running the studio server: the pre-generation pool, the background worker and the app,
started together and stopped together (Ctrl-C or SIGTERM)."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from studio.ui.app import build_app, launch
from studio.ui.options import ServeOptions

if TYPE_CHECKING:
    from studio.api import Studio


def serve(studio: Studio, options: ServeOptions, *, pool: bool = True, worker: bool = True) -> None:
    """Serve until interrupted. `pool` keeps pairs ready in a thread of this process;
    `worker` starts the job worker (training) as a child process. Without a users file the
    admin link is printed once the server answers."""
    held = holdings(studio)
    if held:
        print(held, flush=True)
    try:
        with _sigterm_as_interrupt(), background(studio, options, pool=pool, worker=worker) as pool_worker:
            demo = build_app(studio, options, pool=pool_worker)
            launch(demo, options, prevent_thread_lock=True)
            announce(options)
            demo.block_thread()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before Gradio took over the wait: a normal stop
        pass


def announce(options: ServeOptions) -> None:
    """Print the admin link (without a users file: the only way to the admin tabs)."""
    url = options.admin_url()
    if url is not None:
        print(f"* Admin link (opens Training, Data and Settings in the browser that opens it; keep it to "
              f"yourself, it changes at every start):\n  {url}", flush=True)


def _say(line: str) -> None:
    print(f"* {line}", flush=True)


def holdings(studio: Studio) -> str | None:
    """What a restarted studio already holds, in one line (None for a new one)."""
    counts = studio.stats()
    votes, ready = counts.get("comparisons", 0), counts.get("open_items", 0)
    if not votes and not ready:
        return None
    return (f"* Carrying on: this studio holds {votes} vote{'s' if votes != 1 else ''} and {ready} "
            f"pair{'s' if ready != 1 else ''} waiting for votes ({counts.get('prompts', 0)} prompts, "
            f"{counts.get('raters', 0)} raters)")


@contextlib.contextmanager
def background(studio: Studio, options: ServeOptions, *, pool: bool, worker: bool) -> Iterator[Any]:
    """The job worker process and the pool thread for as long as the block runs; yields
    the pool worker (None without one)."""
    started: list[Any] = []
    pool_worker = None
    try:
        if worker:
            from studio.jobs import start_worker_process

            started.append(start_worker_process(studio.config))
        if pool:
            pool_worker = studio.pool_worker(prompt_set=options.prompt_set, say=_say).start()
            started.append(pool_worker)
        yield pool_worker
    finally:
        for thing in reversed(started):
            thing.stop()


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """`kill` (SIGTERM, as systemd and docker send) stops the server like Ctrl-C does,
    so the pool and the worker are stopped on the way out."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (e.g. a notebook): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
