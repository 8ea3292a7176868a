"""One row per pair by majority: the outcome most raters chose, with the vote count and
the agreement (the share of votes for that outcome) kept as columns.

A pair whose most-voted outcome is shared (1 left, 1 right; 2 left, 2 tie) has no majority:
it counts as a tie, with its agreement as the largest share (0.5 in both examples).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from studio.errors import InputError

Chunk = dict[str, Sequence[Any]]   # columns: name -> values, one per row
OUTCOME_COLUMNS = (("left", "left_votes"), ("right", "right_votes"), ("tie", "tie_votes"),
                   ("both_bad", "both_bad_votes"))


def majority_outcome(counts: dict[str, int]) -> tuple[str, float]:
    """(outcome, agreement) from vote counts per outcome."""
    total = sum(counts.values())
    if total <= 0:
        raise ValueError("a pair needs at least one vote")
    best = max(counts.values())
    leaders = [outcome for outcome, n in counts.items() if n == best]
    return (leaders[0] if len(leaders) == 1 else "tie"), best / total


def add_majority(chunk: Chunk) -> Chunk:
    """The pair chunk with `outcome` and `agreement` columns added."""
    outcomes, agreements = [], []
    columns = [chunk[column] for _, column in OUTCOME_COLUMNS]
    for counts in zip(*columns, strict=True):
        outcome, agreement = majority_outcome(dict(zip((o for o, _ in OUTCOME_COLUMNS), counts, strict=True)))
        outcomes.append(outcome)
        agreements.append(agreement)
    return {**chunk, "outcome": outcomes, "agreement": agreements}


def at_least(chunk: Chunk, min_agreement: float) -> Chunk:
    """Only the pairs whose agreement reaches `min_agreement`."""
    keep = [i for i, a in enumerate(chunk["agreement"]) if a >= min_agreement - 1e-12]
    return take(chunk, keep)


def check_min_agreement(value: float | None, aggregate: str) -> None:
    if value is None:
        return
    if aggregate != "majority":
        raise InputError("a minimum agreement needs one row per pair: add --aggregate majority")
    if not 0.0 <= value <= 1.0:
        raise InputError(f"minimum agreement is a share of votes between 0 and 1, got {value}")


def take(chunk: Chunk, rows: list[int]) -> Chunk:
    """The chunk restricted to the given row positions (the same chunk when all are kept)."""
    size = len(next(iter(chunk.values()), []))
    if len(rows) == size:
        return chunk
    return {name: [values[i] for i in rows] for name, values in chunk.items()}
