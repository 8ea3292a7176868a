"""Which stored votes count: the one condition every reader of votes applies (leaderboards,
agreement, the DataFrames, exports, the reward model's training data, the counts).

A vote stays in the database when it stops counting, so an audit can still see it:
- a rater's second vote on an item (stored before one vote per item was enforced, marked
  `superseded_by` the first by migration 0003);
- the votes of a rater or of one session an admin excluded (a `rater_exclusions` row:
  session '' for the whole rater, later votes included). Removing the row counts them again.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session

from studio.store.schema import Comparison, RaterExclusion

VOTES = Comparison.__table__
EXCLUSIONS = RaterExclusion.__table__
WHOLE_RATER = ""       # the session_id of an exclusion of every vote of the rater


def counted_votes(votes: Table = VOTES, *, include_superseded: bool = False,
                  include_excluded: bool = False) -> ColumnElement[bool]:
    """The WHERE condition of the votes that count, on `comparisons` (or an alias of it).
    `include_superseded` / `include_excluded` also read those rows (an audit of what was
    left out)."""
    conditions = []
    if not include_superseded:
        conditions.append(votes.c.superseded_by.is_(None))
    if not include_excluded:
        conditions.append(~excluded_vote(votes))
    return and_(*conditions) if conditions else true()


def excluded_vote(votes: Table = VOTES) -> ColumnElement[bool]:
    """True for a vote whose rater, or whose session, an admin excluded."""
    return exists().where(EXCLUSIONS.c.rater_id == votes.c.rater_id,
                          or_(EXCLUSIONS.c.session_id == WHOLE_RATER, EXCLUSIONS.c.session_id == votes.c.session_id))


def superseded_count(session: Session) -> int:
    """How many stored votes are superseded (kept, but counted nowhere)."""
    return session.scalar(select(func.count()).select_from(VOTES).where(VOTES.c.superseded_by.is_not(None))) or 0


def excluded_count(session: Session) -> int:
    """How many stored, not superseded votes an exclusion leaves out (kept, counted nowhere)."""
    return session.scalar(select(func.count()).select_from(VOTES)
                          .where(VOTES.c.superseded_by.is_(None), excluded_vote(VOTES))) or 0
