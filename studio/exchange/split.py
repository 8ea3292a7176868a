"""Train/test splits by prompt: every row of a prompt lands in the same split, decided by the
prompt's `studio.splits.split_point` (the hash the reward model's held-out set uses too), so
the split is the same on every export and on every machine (and a prompt asked in two prompt
sets still lands on one side)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from studio.errors import InputError
from studio.splits import split_point

TRAIN = "train"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


def parse(items: Sequence[str]) -> dict[str, float]:
    """`["test=0.1", "validation=0.05"]` (the CLI's `--split`) as a dict."""
    parsed: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            fraction = float(value) if sep else None
        except ValueError:
            fraction = None
        if fraction is None:
            raise InputError(f"--split takes NAME=FRACTION, e.g. test=0.1; got {item!r}")
        if name in parsed:
            raise InputError(f"--split names '{name}' twice")
        parsed[name] = fraction
    return check(parsed)


def check(spec: Mapping[str, float] | None) -> dict[str, float]:
    """Validate a split spec: named held-out fractions; the rest is `train`."""
    if not spec:
        return {}
    checked: dict[str, float] = {}
    for name, fraction in spec.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise InputError(f"a split name is letters, digits, '-' or '_' (up to 40), got {name!r}")
        if name == TRAIN:
            raise InputError("'train' is what remains after the other splits: name only the held-out ones")
        if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction < 1:
            raise InputError(f"split '{name}' needs a fraction between 0 and 1, got {fraction!r}")
        checked[name] = float(fraction)
    if sum(checked.values()) >= 1:
        raise InputError(f"the held-out splits take {sum(checked.values()):g} of the prompts: leave some for train")
    return checked


def names(spec: Mapping[str, float]) -> list[str]:
    return [TRAIN, *sorted(spec)] if spec else [TRAIN]


class Splitter:
    """Assigns prompts to splits: `splitter(prompt_text) -> split name`."""

    def __init__(self, spec: Mapping[str, float]):
        self.spec = check(spec)
        bounds, total = [], 0.0
        for name in sorted(self.spec):
            total += self.spec[name]
            bounds.append((total, name))
        self._bounds = bounds
        self._memo: dict[str, str] = {}

    def __call__(self, prompt: str) -> str:
        if not self._bounds:
            return TRAIN
        found = self._memo.get(prompt)
        if found is not None:
            return found
        point = split_point(prompt)
        found = next((name for bound, name in self._bounds if point < bound), TRAIN)
        if len(self._memo) > 50_000:   # bounded: memory stays flat on huge exports
            self._memo.clear()
        self._memo[prompt] = found
        return found

    def rows_by_split(self, prompts: Sequence[str]) -> dict[str, list[int]]:
        """Row positions of a chunk grouped by split, in order."""
        if not self._bounds:
            return {TRAIN: list(range(len(prompts)))}
        groups: dict[str, list[int]] = {}
        for i, prompt in enumerate(prompts):
            groups.setdefault(self(prompt), []).append(i)
        return groups
