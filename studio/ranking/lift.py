"""The lift of an improved version: how often human raters preferred it to its parent, on
the pairs the arena showed them (blind, sides shuffled), with a 95% Wilson interval; ties
and "both bad" count half to each side. Below `min_votes` votes the verdict is "not yet
enough votes". Beside it, the reward model's predicted win rate on the same votes' outputs.
Pure: vote rows in, a DataFrame out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from studio.ranking.winrates import wilson_interval

MIN_VOTES = 20
COLUMNS = ["contender", "parent", "method", "enabled", "votes", "wins", "ties", "losses", "win_rate",
           "ci_low", "ci_high", "verdict", "predicted_win_rate", "predicted_votes"]


@dataclass(frozen=True)
class Version:
    name: str
    id: int
    parent: str
    parent_id: int
    method: str | None = None
    enabled: bool = True


def tally(votes: Iterable[Mapping[str, Any]], version_id: int) -> tuple[int, int, int]:
    """(wins, ties, losses) of `version_id` over votes between it and one other contender."""
    wins = ties = losses = 0
    for vote in votes:
        outcome = vote["outcome"]
        if outcome in ("tie", "both_bad"):
            ties += 1
            continue
        winner = vote["left_contender_id"] if outcome == "left" else vote["right_contender_id"]
        if winner == version_id:
            wins += 1
        else:
            losses += 1
    return wins, ties, losses


def verdict(n: int, low: float, high: float, min_votes: int = MIN_VOTES) -> str:
    if n < min_votes:
        return f"not yet enough votes ({n} of {min_votes})"
    if low > 0.5:
        return "better than its parent"
    if high < 0.5:
        return "worse than its parent"
    return "no clear difference yet"


def lift_row(version: Version, votes: Sequence[Mapping[str, Any]], *, min_votes: int = MIN_VOTES,
             predicted: tuple[float, int] | None = None) -> dict[str, Any]:
    """One version's row of the lift table."""
    wins, ties, losses = tally(votes, version.id)
    n = wins + ties + losses
    rate = (wins + ties / 2) / n if n else float("nan")
    low, high = wilson_interval(wins + ties / 2, n) if n else (float("nan"), float("nan"))
    return {"contender": version.name, "parent": version.parent, "method": version.method,
            "enabled": version.enabled, "votes": n, "wins": wins, "ties": ties, "losses": losses,
            "win_rate": rate, "ci_low": low, "ci_high": high, "verdict": verdict(n, low, high, min_votes),
            "predicted_win_rate": predicted[0] if predicted else float("nan"),
            "predicted_votes": predicted[1] if predicted else 0}


def lift_table(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=COLUMNS)


def predicted_win_rate(votes: Sequence[Mapping[str, Any]], version_id: int,
                       prob_left: Sequence[float]) -> tuple[float, int]:
    """The reward model's mean probability that the version's output wins, over the votes
    (`prob_left[i]`: its P(left side wins) for vote i)."""
    shares = [p if vote["left_contender_id"] == version_id else 1.0 - p
              for vote, p in zip(votes, prob_left, strict=True)]
    return (sum(shares) / len(shares) if shares else float("nan")), len(shares)
