"""The vote frame every ranking function reads, and how outcomes become numbers.

A vote frame has one row per comparison with at least `left_contender`,
`right_contender` and `outcome` (left | right | tie | both_bad), as returned by
`Studio.comparisons()`. Agreement also reads `rater`, `left_generation_id`,
`right_generation_id` and, when present, `id` and `decision_ms`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from studio.errors import InputError

# The share of the win each outcome gives the left side: a tie counts half a win to each
# side, and "both bad" is a tie between two poor answers.
LEFT_SCORE = {"left": 1.0, "right": 0.0, "tie": 0.5, "both_bad": 0.5}
DECISIVE = ("left", "right")


def require_columns(votes: pd.DataFrame, columns: Iterable[str], *, what: str) -> None:
    missing = [c for c in columns if c not in votes.columns]
    if missing:
        raise InputError(f"{what} needs a vote frame with columns {', '.join(missing)} "
                         "(as returned by Studio.comparisons())")


def left_scores(outcomes: pd.Series) -> np.ndarray:
    """The left side's share of each vote's win (1, 0.5 or 0); unknown outcomes refused."""
    codes, seen = pd.factorize(outcomes)
    table = np.array([LEFT_SCORE.get(value, np.nan) for value in seen] + [np.nan])
    scores = table[codes]                     # a missing outcome has code -1: the NaN at the end
    if np.isnan(scores).any():
        bad = outcomes.iloc[int(np.flatnonzero(np.isnan(scores))[0])]
        raise InputError(f"unknown vote outcome {bad!r}: expected one of {', '.join(LEFT_SCORE)}")
    return scores


def between_contenders(votes: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """The votes that compare two different contenders (a contender against itself says
    nothing about its strength)."""
    require_columns(votes, ("left_contender", "right_contender", "outcome"), what=what)
    return votes[votes["left_contender"] != votes["right_contender"]]


def contender_codes(votes: pd.DataFrame) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Contender names (sorted) and each vote's left and right position among them."""
    both = np.concatenate([votes["left_contender"].to_numpy(dtype=object),
                           votes["right_contender"].to_numpy(dtype=object)])
    codes, names = pd.factorize(both, sort=True)
    return pd.Index(names, dtype=object), codes[:len(votes)], codes[len(votes):]
