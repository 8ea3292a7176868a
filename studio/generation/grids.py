"""A ranking of a grid of outputs, stored as the pairwise comparisons it implies."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from studio.errors import InputError


@dataclass(frozen=True)
class ImpliedComparison:
    left: int                 # the generation shown first (earlier in the grid)
    right: int
    outcome: str              # "left" | "right": which one the rater ranked higher
    key: str                  # idempotency key of this comparison


def ranking_comparisons(shown: Sequence[int], order: Sequence[int], idempotency_key: str) -> list[ImpliedComparison]:
    """The comparisons a ranking implies. `order` lists generation ids best first; it may stop
    early: the ranked ones beat every one after them and every unranked one, and unranked
    ones are not compared with each other (listing only the best means best vs each of the
    rest). Sides keep the grid's display order, so position bias stays measurable. Each
    comparison's key is derived from the one key, so a retried ranking writes nothing new."""
    if not order:
        raise InputError("a ranking lists at least the best output")
    unknown = [g for g in order if g not in shown]
    if unknown:
        raise InputError(f"generation {unknown[0]} is not part of this item (it shows {list(shown)})")
    if len(set(order)) != len(order):
        raise InputError("a ranking lists each output once")
    position = {g: i for i, g in enumerate(shown)}
    rest = [g for g in shown if g not in order]
    base = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    implied = []
    for rank, winner in enumerate(order):
        for loser in [*order[rank + 1:], *rest]:
            left, right = sorted((winner, loser), key=position.__getitem__)
            implied.append(ImpliedComparison(left=left, right=right, outcome="left" if winner == left else "right",
                                             key=f"rank:{base}:{left}:{right}"))
    return implied


def ranking_group(idempotency_key: str) -> str:
    """The group id the comparisons of one ranking share (stable across retries)."""
    return "rank-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
