"""Head-to-head tables (battle counts, win rates) and position bias."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binomtest, norm

from studio.errors import InputError
from studio.ranking.votes import between_contenders, contender_codes, left_scores, require_columns


def battle_counts(votes: pd.DataFrame, *, order: list[str] | None = None) -> pd.DataFrame:
    """Square table: how many votes compared each two contenders (symmetric, 0 on the
    diagonal). Contenders sorted by name unless `order` is given."""
    names, left, right = _codes(votes, "battle counts")
    size = len(names)
    counts = np.bincount(left * size + right, minlength=size * size).reshape(size, size)
    return _square(counts + counts.T, names, order)


def win_rates(votes: pd.DataFrame, *, ties: Literal["half", "exclude"] = "half",
              order: list[str] | None = None) -> pd.DataFrame:
    """Square table: the row contender's share of wins against the column contender.
    `ties="half"` counts a tie as half a win to each (as the leaderboard does);
    `ties="exclude"` uses decisive votes only. NaN where two never met."""
    if ties not in ("half", "exclude"):
        raise InputError(f"ties must be 'half' or 'exclude', got {ties!r}")
    names, left, right = _codes(votes, "win rates")
    score = left_scores(between_contenders(votes, what="win rates")["outcome"])
    if ties == "exclude":
        decisive = score != 0.5
        left, right, score = left[decisive], right[decisive], score[decisive]
    size = len(names)
    flat = left * size + right
    wins = np.bincount(flat, score, size * size).reshape(size, size)
    losses = np.bincount(flat, 1.0 - score, size * size).reshape(size, size)
    won = wins + losses.T                 # row's wins as left plus row's wins as right
    met = won + won.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(met > 0, won / met, np.nan)
    return _square(rates, names, order)


def position_bias(votes: pd.DataFrame, *, confidence: float = 0.95) -> dict:
    """The share of decisive votes won by the left side, with a Wilson score interval and
    a two-sided binomial test against 50%. The arena shows sides at random, so a share far
    from 0.5 means raters favour a side."""
    require_columns(votes, ("outcome",), what="position bias")
    outcomes = votes["outcome"]
    left_wins = int((outcomes == "left").sum())
    n = left_wins + int((outcomes == "right").sum())
    report = {"left_share": np.nan, "ci_low": np.nan, "ci_high": np.nan, "n": n, "left_wins": left_wins,
              "ties": int(len(outcomes) - n), "p_value": np.nan, "confidence": confidence}
    if n:
        low, high = wilson_interval(left_wins, n, confidence)
        report.update(left_share=left_wins / n, ci_low=low, ci_high=high,
                      p_value=float(binomtest(left_wins, n, 0.5).pvalue))
    return report


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (sound near 0 and 1 and for small n)."""
    z = norm.ppf(0.5 + confidence / 2)
    share = successes / n
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def _codes(votes: pd.DataFrame, what: str):
    return contender_codes(between_contenders(votes, what=what))


def _square(values: np.ndarray, names: pd.Index, order: list[str] | None) -> pd.DataFrame:
    frame = pd.DataFrame(values, index=pd.Index(names, name="contender"), columns=pd.Index(names, name="opponent"))
    if order is not None:
        frame = frame.reindex(index=order, columns=order)
    return frame
