"""Counts per prompt set, for `Studio.overview()`: a few grouped counts, no rows read."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import distinct, func, select

from studio.store.counted import counted_votes
from studio.store.schema import Comparison, Generation, Prompt, RatingItem
from studio.store.sql import Repo

COLUMNS = ["prompts", "generations", "rating_items", "open_items", "votes", "raters", "first_vote", "last_vote"]
ALL = "(all)"


class OverviewRepo(Repo):
    def by_prompt_set(self) -> pd.DataFrame:
        """One row per prompt set and a last row `(all)`: prompts, generations, rating items,
        open items (still wanting votes), votes, raters who voted, first and last vote."""
        s = self.session
        by_set = Prompt.prompt_set
        prompts = dict(s.execute(select(by_set, func.count()).group_by(by_set)).all())
        generations = dict(s.execute(select(by_set, func.count(Generation.id))
                                     .join(Generation, Generation.prompt_id == Prompt.id).group_by(by_set)).all())
        items = {row[0]: row[1:] for row in s.execute(
            select(RatingItem.prompt_set, func.count(),
                   func.count().filter(RatingItem.votes_received < RatingItem.votes_wanted))
            .group_by(RatingItem.prompt_set))}
        votes = {row[0]: row[1:] for row in s.execute(
            select(by_set, func.count(Comparison.id), func.count(distinct(Comparison.rater_id)),
                   func.min(Comparison.created_at), func.max(Comparison.created_at))
            .join(Comparison, Comparison.prompt_id == Prompt.id).where(counted_votes()).group_by(by_set))}
        rows = {name: [count, generations.get(name, 0), *items.get(name, (0, 0)), *votes.get(name, (0, 0, None, None))]
                for name, count in sorted(prompts.items())}
        total_votes = s.execute(select(func.count(Comparison.id), func.count(distinct(Comparison.rater_id)),
                                       func.min(Comparison.created_at), func.max(Comparison.created_at))
                               .where(counted_votes())).one()
        total_items = s.execute(select(func.count(RatingItem.id), func.count(RatingItem.id).filter(
            RatingItem.votes_received < RatingItem.votes_wanted))).one()
        rows[ALL] = [sum(prompts.values()), sum(generations.values()), *total_items, *total_votes]
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
        frame.index.name = "prompt_set"
        for column in COLUMNS[:6]:
            frame[column] = frame[column].astype("int64")
        for column in COLUMNS[6:]:
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame
