"""Which stored votes count: the one condition every reader of votes applies (leaderboards,
agreement, the DataFrames, exports, the reward model's training data, the counts).

A vote stays in the database when it stops counting, so an audit can still see it; today
that is a rater's second vote on an item (stored before one vote per item was enforced,
marked `superseded_by` the first by migration 0003). Later reasons (excluded raters) belong
here too, so that no reader can miss them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, func, select, true
from sqlalchemy.orm import Session

from studio.store.schema import Comparison

VOTES = Comparison.__table__


def counted_votes(votes: Table = VOTES, *, include_superseded: bool = False) -> ColumnElement[bool]:
    """The WHERE condition of the votes that count, on `comparisons` (or an alias of it).
    `include_superseded` reads every stored row (an audit of what was left out)."""
    if include_superseded:
        return true()
    return votes.c.superseded_by.is_(None)


def superseded_count(session: Session) -> int:
    """How many stored votes are superseded (kept, but counted nowhere)."""
    return session.scalar(select(func.count()).select_from(VOTES).where(VOTES.c.superseded_by.is_not(None))) or 0
