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
