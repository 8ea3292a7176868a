"""Style features of answers, and the per-vote covariates style control fits.

Counted on each answer's text (markdown as raters see it rendered):
- length: characters;
- headers: lines starting with one to six `#` and a space;
- lists: list items, lines starting with `-`, `*`, `+` or a number and `.` or `)`, then a space;
- bold: `**bold**` and `__bold__` spans.
Headers, lists and bold are counted outside fenced code blocks (a `#` comment in code is
not a header). An answer without text (an image) counts zeros.

The covariate of a vote, per feature, is Chatbot Arena's normalised difference
(left - right) / (left + right + 1), scaled by its root mean square over the votes. Arena
also subtracts the mean before scaling; that would tie a fixed left-side offset to each
coefficient, so the scaling here keeps a vote and the same vote with the sides swapped
exactly opposite (the mean is near 0 anyway when the arena shuffles sides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from studio.errors import InputError

STYLE_FEATURES = ("length", "headers", "lists", "bold")
_FENCED_CODE = r"```.*?(?:```|\Z)"
_PATTERNS = {"headers": r"(?m)^#{1,6}[ \t]+\S",
             "lists": r"(?m)^[ \t]*(?:[-*+]|\d+[.)])[ \t]+\S",
             "bold": r"\*\*[^*\n]+\*\*|__[^_\n]+__"}


def style_counts(texts: Iterable[str | None]) -> pd.DataFrame:
    """One row per text: length, headers, lists, bold (ints); missing texts count zeros."""
    text = pd.Series(list(texts), dtype=object)
    text = text.where(text.map(lambda t: isinstance(t, str)), "").astype(str)
    prose = text.str.replace(_FENCED_CODE, "", regex=True, flags=re.DOTALL)
    counts = {"length": text.str.len()}
    counts.update({name: prose.str.count(pattern) for name, pattern in _PATTERNS.items()})
    return pd.DataFrame(counts, columns=list(STYLE_FEATURES)).astype(np.int64)


def with_style_counts(votes: pd.DataFrame) -> pd.DataFrame:
    """The vote frame with left_<feature> and right_<feature> count columns, counted from
    left_text and right_text (each generation once when the frame has generation ids)."""
    missing = [c for c in ("left_text", "right_text") if c not in votes.columns]
    if missing:
        raise InputError("style control needs the answers' texts (columns left_text and right_text, as "
                         "Studio.comparisons() returns them) or left_/right_ style count columns")
    out = votes.copy()
    for side in ("left", "right"):
        texts = votes[f"{side}_text"]
        key = f"{side}_generation_id"
        if key in votes.columns:
            unique = ~votes[key].duplicated()
            counted = style_counts(texts[unique]).set_index(votes.loc[unique, key].to_numpy())
            counts = counted.reindex(votes[key].to_numpy())
        else:
            counts = style_counts(texts)
        for feature in STYLE_FEATURES:
            out[f"{side}_{feature}"] = counts[feature].to_numpy()
    return out


def has_style_counts(votes: pd.DataFrame, features: Iterable[str] = STYLE_FEATURES) -> bool:
    return all(f"{side}_{f}" in votes.columns for f in features for side in ("left", "right"))


def style_covariates(votes: pd.DataFrame, features: Iterable[str] = STYLE_FEATURES) -> tuple[np.ndarray, np.ndarray]:
    """(votes x features) covariates from the count columns, and each feature's scale
    (the root mean square of its normalised difference; covariates are divided by it)."""
    features = list(features)
    unknown = [f for f in features if f not in STYLE_FEATURES]
    if unknown:
        raise InputError(f"unknown style feature {unknown[0]!r}: expected some of {', '.join(STYLE_FEATURES)}")
    left = votes[[f"left_{f}" for f in features]].to_numpy(dtype=float)
    right = votes[[f"right_{f}" for f in features]].to_numpy(dtype=float)
    ratio = (left - right) / (left + right + 1.0)
    scale = np.sqrt((ratio ** 2).mean(axis=0)) if len(ratio) else np.zeros(len(features))
    covariates = np.divide(ratio, scale, out=np.zeros_like(ratio), where=scale > 0)
    return covariates, scale
