"""Votes cast faster than the answers can be read.

The default rule: a vote is too fast when its decision time is below
`base_ms` + the characters of both answers / `chars_per_second` (1.5 s + 1 s per 100
characters). 100 characters a second is about four times ordinary silent reading speed
(200 to 250 words a minute, some 20 to 25 characters a second): fast skimming. Below that
a rater cannot have looked at both answers; the 1.5 s cover seeing the pair and pressing a
key. Answers without text (images) count only the base. Votes without a decision time are
never too fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studio.errors import InputError
from studio.ranking.votes import require_columns

BASE_MS = 1500.0
CHARS_PER_SECOND = 100.0


def reading_chars(votes: pd.DataFrame) -> pd.Series:
    """Characters of both answers per vote: the `reading_chars` column when the frame has
    one, else the lengths of left_text and right_text (a missing text counts 0)."""
    if "reading_chars" in votes.columns:
        return pd.to_numeric(votes["reading_chars"], errors="coerce").fillna(0.0)
    require_columns(votes, ("left_text", "right_text"), what="the reading-time rule")
    return sum(votes[side].map(lambda text: len(text) if isinstance(text, str) else 0) for side in
               ("left_text", "right_text")).astype(float)


def too_fast_threshold_ms(chars: pd.Series | np.ndarray, *, base_ms: float = BASE_MS,
                          chars_per_second: float = CHARS_PER_SECOND) -> np.ndarray:
    """The decision time (ms) below which a vote on answers of `chars` characters is too fast."""
    if chars_per_second <= 0 or base_ms < 0:
        raise InputError("the reading rule needs chars_per_second above 0 and base_ms of 0 or more")
    return base_ms + 1000.0 * np.asarray(chars, dtype=float) / chars_per_second


def too_fast(votes: pd.DataFrame, *, base_ms: float = BASE_MS, chars_per_second: float = CHARS_PER_SECOND) -> pd.Series:
    """Per vote: whether its decision_ms is below the threshold for its reading length."""
    require_columns(votes, ("decision_ms",), what="the reading-time rule")
    decision = pd.to_numeric(votes["decision_ms"], errors="coerce")
    threshold = too_fast_threshold_ms(reading_chars(votes), base_ms=base_ms, chars_per_second=chars_per_second)
    return (decision < threshold).fillna(False).astype(bool)


def too_fast_counts(votes: pd.DataFrame, **rule) -> pd.Series:
    """Per rater (sorted): how many of their votes were too fast."""
    require_columns(votes, ("rater",), what="the reading-time rule")
    return too_fast(votes, **rule).groupby(votes["rater"]).sum().astype(int).sort_index()
