"""Preference pairs for DPO, from votes (plain dicts in, `PairSet` out).

A vote trains the contender when one of its sides is the contender's and it is decisive:
the winner's text is `chosen`, the loser's `rejected`, whoever made them (a vote where the
contender lost teaches what to prefer just as well as one it won). Ties and "both bad" say
nothing about an order; they are left out and counted, like votes on images or on empty
outputs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pair:
    prompt: str
    chosen: str
    rejected: str
    system_prompt: str | None = None
    prompt_id: int | None = None
    comparison_id: int | None = None


@dataclass
class PairSet:
    pairs: list[Pair] = field(default_factory=list)
    left_out: Counter = field(default_factory=Counter)    # why votes were not used: tie, both_bad, ...

    @property
    def prompt_ids(self) -> list[int]:
        return sorted({p.prompt_id for p in self.pairs if p.prompt_id is not None})

    @property
    def comparison_ids(self) -> list[int]:
        return [p.comparison_id for p in self.pairs if p.comparison_id is not None]

    def counts(self) -> dict[str, int]:
        """What was used and what was left out, for the lineage and the job's message."""
        return {"pairs": len(self.pairs), "prompts": len(self.prompt_ids), **dict(sorted(self.left_out.items()))}

    def describe_left_out(self) -> str:
        if not self.left_out:
            return "none left out"
        return ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in sorted(self.left_out.items()))


def vote_pairs(votes: Iterable[dict[str, Any]], contender_id: int) -> PairSet:
    """Decisive votes involving the contender as DPO pairs; the rest counted by reason.
    Each vote: outcome, left/right_contender_id, left/right_text, prompt, and optionally
    id, prompt_id, system_prompt, left/right_media."""
    result = PairSet()
    for vote in votes:
        if contender_id not in (vote.get("left_contender_id"), vote.get("right_contender_id")):
            result.left_out["not_involving"] += 1
            continue
        outcome = vote["outcome"]
        if outcome in ("tie", "both_bad"):
            result.left_out[outcome] += 1
            continue
        if vote.get("left_media") or vote.get("right_media"):
            result.left_out["image"] += 1
            continue
        left, right = vote.get("left_text") or "", vote.get("right_text") or ""
        if not left.strip() or not right.strip() or left == right:
            result.left_out["empty_or_equal"] += 1
            continue
        chosen, rejected = (left, right) if outcome == "left" else (right, left)
        result.pairs.append(Pair(prompt=vote["prompt"], chosen=chosen, rejected=rejected,
                                 system_prompt=vote.get("system_prompt"), prompt_id=vote.get("prompt_id"),
                                 comparison_id=vote.get("id")))
    return result


def best_vs_worst(prompt: str, answers: Sequence[str], scores: Sequence[float], *, min_margin: float = 0.0,
                  system_prompt: str | None = None, prompt_id: int | None = None) -> Pair | None:
    """The on-policy pair of one prompt: the answer the reward model scores best against the
    one it scores worst; None when they are the same text or the margin is not above `min_margin`."""
    if len(answers) != len(scores):
        raise ValueError(f"{len(answers)} answers but {len(scores)} scores")
    usable = [(s, a) for s, a in zip(scores, answers, strict=True) if a and a.strip()]
    if len(usable) < 2:
        return None
    best = max(usable, key=lambda x: x[0])
    worst = min(usable, key=lambda x: x[0])
    if best[1] == worst[1] or best[0] - worst[0] <= min_margin:
        return None
    return Pair(prompt=prompt, chosen=best[1], rejected=worst[1], system_prompt=system_prompt, prompt_id=prompt_id)
