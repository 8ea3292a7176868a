"""Progress bars for long work: shown in terminals and notebooks, silent in pipes and tests."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
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
