"""Progress bars for long work: shown in terminals and notebooks, silent in pipes and tests."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def interactive() -> bool:
    """True in a terminal or a Jupyter kernel, where a progress bar helps; False in a pipe."""
    if "ipykernel" in sys.modules:
        return True
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def bar(total: int | None = None, *, desc: str = "", unit: str = "it", enabled: bool | None = None) -> Any:
    """A tqdm bar (the notebook widget in Jupyter); a no-op bar when disabled."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not (interactive() if enabled is None else enabled),
                dynamic_ncols=True, leave=False)


def track(items: Iterable[T], *, total: int | None = None, desc: str = "", unit: str = "it",
          enabled: bool | None = None) -> Iterator[T]:
    with bar(total=total, desc=desc, unit=unit, enabled=enabled) as progress:
        for item in items:
            yield item
            progress.update(1)


def phase_bars(progress: bool | Callable | None) -> Callable | None:
    """Show a long job's updates (objects with `phase`, `step`, `total_steps` and `loss`):
    a user's callback, one bar per phase (True, or None in a terminal or notebook), or
    nothing. The returned function is called with `None` once at the end."""
    if callable(progress):
        return lambda update: progress(update) if update is not None else None
    if progress is False or (progress is None and not interactive()):
        return None
    state: dict[str, Any] = {}

    def show(update) -> None:
        if update is None:
            if "bar" in state:
                state["bar"].close()
            return
        if state.get("phase") != update.phase:
            if "bar" in state:
                state["bar"].close()
            state["bar"] = bar(total=update.total_steps, desc=update.phase, unit="step", enabled=True)
            state["phase"] = update.phase
        shown = state["bar"]
        shown.total = update.total_steps
        shown.n = update.step
        if update.loss is not None:
            shown.set_postfix(loss=f"{update.loss:.4f}", refresh=False)
        shown.refresh()

    return show


class counting:
    """A bar, a caller's `(done, total)` callback, or nothing, for work counted in units;
    yields an `advance(n)` function.

        with counting(progress, total=votes, desc="exporting", unit=" votes") as advance:
            advance(len(chunk))
    """

    def __init__(self, progress: bool | Callable[[int, int], None] | None, total: int, *, desc: str = "",
                 unit: str = "it"):
        self.progress, self.total, self.done, self.bar = progress, total, 0, None
        self.desc, self.unit = desc, unit

    def __enter__(self) -> Callable[[int], None]:
        if callable(self.progress):
            def advance(n: int) -> None:
                self.done += n
                self.progress(self.done, self.total)
            return advance
        self.bar = bar(total=self.total, desc=self.desc, unit=self.unit, enabled=self.progress)
        return self.bar.update

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.close()
