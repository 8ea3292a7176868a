"""Fixtures for the reliability suite, and the count of hostile inputs tried per entry point.

Each hostile-input test calls `tried(entry_point)` once per input; the session ends with a
table of the counts (also written as JSON to $STUDIO_HOSTILE_COUNTS when set, which is how
`bench/hostile_inputs.py` collects them). $STUDIO_HOSTILE_EXAMPLES raises the number of
generated inputs per entry point (default: a few dozen, to keep the suite fast).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, settings

from tests.rewards.conftest import tiny_backbones, tiny_encoder  # noqa: F401  (tiny offline backbones)
from tests.ui.conftest import ui_studio, users_file  # noqa: F401  (shared with the UI tests)

HOSTILE_COUNTS: Counter[str] = Counter()
EXAMPLES = int(os.environ.get("STUDIO_HOSTILE_EXAMPLES", "0") or 0)


def hostile_settings(default: int):
    """Hypothesis settings for a hostile-input test: `default` examples unless the
    environment asks for more; derandomized so a run is repeatable."""
    return settings(max_examples=EXAMPLES or default, deadline=None, derandomize=not EXAMPLES,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.filter_too_much, HealthCheck.data_too_large])


@pytest.fixture
def tried() -> Callable[[str], None]:
    """Count one hostile input tried against an entry point."""
    def count(entry_point: str) -> None:
        HOSTILE_COUNTS[entry_point] += 1
    return count


def pytest_terminal_summary(terminalreporter):
    if not HOSTILE_COUNTS:
        return
    terminalreporter.section("hostile inputs tried per entry point")
    for entry, count in sorted(HOSTILE_COUNTS.items()):
        terminalreporter.write_line(f"{count:>7}  {entry}")
    terminalreporter.write_line(f"{sum(HOSTILE_COUNTS.values()):>7}  in all ({len(HOSTILE_COUNTS)} entry points)")
    target = os.environ.get("STUDIO_HOSTILE_COUNTS")
    if target:
        with open(target, "w", encoding="utf-8") as out:
            json.dump(dict(sorted(HOSTILE_COUNTS.items())), out, indent=1)
