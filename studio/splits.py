"""Where a prompt falls in [0, 1): one salted hash of its text, shared by the reward model's
held-out votes and the exports' `--split`, the same on every machine and in every run.

A prompt is held out from reward-model training when its point is below
`training.heldout_fraction`, and an export's `--split test=F` puts it in `test` when its point
is below F: with the same fraction, the export's test split is the reward model's held-out set.
"""

from __future__ import annotations

import hashlib

_SALT = b"feedback-studio-split\x00"


def split_point(prompt: str) -> float:
    """The prompt's place in [0, 1), from the SHA-256 of its stripped text."""
    digest = hashlib.sha256(_SALT + prompt.strip().encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def prompt_hash(prompt: str) -> str:
    """The key a prompt's held-out side is stored under (SHA-256 of its stripped text)."""
    return hashlib.sha256(prompt.strip().encode("utf-8", "surrogatepass")).hexdigest()


def assign_sides(prompts, fraction: float, known: dict[str, bool] | None = None) -> dict[str, bool]:
    """Each prompt's side (True: held out of reward-model training).

    A prompt in `known` (by `prompt_hash`) keeps its stored side whatever `fraction` is now,
    so the held-out set of a studio never moves: changing `training.heldout_fraction` only
    places prompts seen for the first time. A new prompt is held out when its `split_point`
    is below `fraction`; when that leaves nothing held out (and there are two prompts or
    more), the new prompt with the lowest point is; when it leaves nothing to train on, the
    new held-out prompt with the highest point trains."""
    known = known or {}
    prompts = sorted(set(prompts))
    points = {p: split_point(p) for p in prompts}
    sides = {p: known[prompt_hash(p)] if prompt_hash(p) in known else points[p] < fraction for p in prompts}
    new = [p for p in prompts if prompt_hash(p) not in known]
    if new and fraction > 0 and len(prompts) >= 2 and not any(sides.values()):
        sides[min(new, key=points.__getitem__)] = True
    if new and all(sides.values()):
        fresh_held = [p for p in new if sides[p]]
        if fresh_held:
            sides[max(fresh_held, key=points.__getitem__)] = False
    return sides
