"""Read-side queries that return pandas DataFrames (for the API, notebooks and the UI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from studio.store.counted import counted_votes, excluded_count, excluded_vote, superseded_count
from studio.store.schema import (
    Comparison,
    Contender,
    Generation,
    Job,
    Prompt,
    Rater,
    RatingItem,
    RewardModel,
)
from studio.store.sql import Repo
from studio.store.vote_sides import PROMPT, VOTE, side_content, vote_sides_from


@dataclass(frozen=True)
class ComparisonFilter:
    prompt_set: str | None = None
    contender: str | None = None        # either side
    rater: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_id: int | None = None
    max_id: int | None = None
    limit: int | None = None
    newest_first: bool = False
    include_superseded: bool = False    # also a rater's second votes on an item (kept, never counted)
    include_excluded: bool = False      # also the votes of excluded raters or sessions (column `excluded`)


_LEFT_CONTENDER = Contender.__table__.alias("left_contender")
_RIGHT_CONTENDER = Contender.__table__.alias("right_contender")
_RATER = Rater.__table__


def comparisons_query(f: ComparisonFilter = ComparisonFilter(), *, with_content: bool = True) -> Select:
    """Votes with their contenders' and rater's names (and the prompt and both outputs)."""
    left_con, right_con = _LEFT_CONTENDER, _RIGHT_CONTENDER
    winner = case((VOTE.c.outcome == "left", left_con.c.name),
                  (VOTE.c.outcome == "right", right_con.c.name), else_=None)
    columns = [
        VOTE.c.id, VOTE.c.created_at, VOTE.c.prompt_id, PROMPT.c.prompt_set,
        left_con.c.name.label("left_contender"), right_con.c.name.label("right_contender"),
        VOTE.c.left_generation_id, VOTE.c.right_generation_id,
        VOTE.c.outcome, winner.label("winner"), _RATER.c.name.label("rater"),
        VOTE.c.rationale, VOTE.c.decision_ms, VOTE.c.session_id, VOTE.c.group_id,
        VOTE.c.item_id, VOTE.c.source,
    ]
    if with_content:
        columns[3:3] = [PROMPT.c.text.label("prompt")]
        columns += side_content()
    if f.include_superseded:
        columns.append(VOTE.c.superseded_by)
    if f.include_excluded:
        columns.append(excluded_vote(VOTE).label("excluded"))
    joined = (vote_sides_from(prompt=True, sides=with_content)
              .join(left_con, left_con.c.id == VOTE.c.left_contender_id)
              .join(right_con, right_con.c.id == VOTE.c.right_contender_id)
              .join(_RATER, _RATER.c.id == VOTE.c.rater_id))
    query = select(*columns).select_from(joined)
    conditions = [counted_votes(VOTE, include_superseded=f.include_superseded, include_excluded=f.include_excluded)]
    if f.prompt_set is not None:
        conditions.append(PROMPT.c.prompt_set == f.prompt_set)
    if f.contender is not None:
        conditions.append(or_(left_con.c.name == f.contender, right_con.c.name == f.contender))
    if f.rater is not None:
        conditions.append(_RATER.c.name == f.rater)
    if f.source is not None:
        conditions.append(VOTE.c.source == f.source)
    if f.since is not None:
        conditions.append(VOTE.c.created_at >= f.since)
    if f.until is not None:
        conditions.append(VOTE.c.created_at < f.until)
    if f.min_id is not None:
        conditions.append(VOTE.c.id >= f.min_id)
    if f.max_id is not None:
        conditions.append(VOTE.c.id <= f.max_id)
    query = query.where(and_(*conditions))
    query = query.order_by(VOTE.c.id.desc() if f.newest_first else VOTE.c.id)
    if f.limit is not None:
        query = query.limit(f.limit)
    return query


def read_frame(session: Session, query: Select) -> pd.DataFrame:
    result = session.execute(query)
    # Plain tuples: pandas inspects Row objects attribute by attribute, twice as slow.
    return pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))


class FrameRepo(Repo):
    """Read queries that return DataFrames: `tx.frames.comparisons(filters)`."""

    def comparisons(self, f: ComparisonFilter = ComparisonFilter(), *, with_content: bool = True) -> pd.DataFrame:
        return read_frame(self.session, comparisons_query(f, with_content=with_content))

    def generations(self, *, contender: str | None = None, prompt_set: str | None = None,
                    limit: int | None = None) -> pd.DataFrame:
        query = (select(Generation.id, Generation.created_at, Generation.prompt_id, Prompt.prompt_set,
                        Prompt.text.label("prompt"), Contender.name.label("contender"), Contender.kind,
                        Generation.text, Generation.media_path, Generation.content_sha256, Generation.seed,
                        Generation.params, Generation.latency_ms, Generation.source)
                 .join(Prompt, Prompt.id == Generation.prompt_id)
                 .join(Contender, Contender.id == Generation.contender_id)
                 .order_by(Generation.id))
        if contender is not None:
            query = query.where(Contender.name == contender)
        if prompt_set is not None:
            query = query.where(Prompt.prompt_set == prompt_set)
        if limit is not None:
            query = query.limit(limit)
        return read_frame(self.session, query)

    def contenders(self) -> pd.DataFrame:
        left = (select(Comparison.left_contender_id.label("cid"), func.count().label("n"))
                .where(counted_votes()).group_by(Comparison.left_contender_id))
        right = (select(Comparison.right_contender_id.label("cid"), func.count().label("n"))
                 .where(counted_votes()).group_by(Comparison.right_contender_id))
        votes = {}
        for query in (left, right):
            for cid, n in self.session.execute(query):
                votes[cid] = votes.get(cid, 0) + n
        generated = dict(self.session.execute(select(Generation.contender_id, func.count())
                                              .group_by(Generation.contender_id)).all())
        rows = self.session.scalars(select(Contender).order_by(Contender.id)).all()
        names = {c.id: c.name for c in rows}
        return pd.DataFrame(
            [{"id": c.id, "name": c.name, "kind": c.kind, "backend": c.backend, "model": c.model,
              "params": c.params, "revision": c.revision, "enabled": c.enabled, "version": c.version,
              "parent": names.get(c.parent_id),
              "generations": generated.get(c.id, 0), "votes": votes.get(c.id, 0), "created_at": c.created_at}
             for c in rows],
            columns=["id", "name", "kind", "backend", "model", "params", "revision", "enabled", "version",
                     "parent", "generations", "votes", "created_at"])

    def counts(self) -> dict[str, int]:
        """How many of each thing the studio holds (for `studio stats` and the overview):
        `comparisons` counts the votes that count, `superseded_votes` and `excluded_votes` the
        rest (kept)."""
        def count(model) -> int:
            return self.session.scalar(select(func.count()).select_from(model)) or 0

        open_items = self.session.scalar(select(func.count()).select_from(RatingItem)
                                         .where(RatingItem.votes_received < RatingItem.votes_wanted)) or 0
        votes = self.session.scalar(select(func.count()).select_from(Comparison).where(counted_votes())) or 0
        return {
            "prompts": count(Prompt), "contenders": count(Contender), "generations": count(Generation),
            "comparisons": votes, "superseded_votes": superseded_count(self.session),
            "excluded_votes": excluded_count(self.session), "raters": count(Rater),
            "ready_items": open_items, "jobs": count(Job), "reward_models": count(RewardModel),
        }
