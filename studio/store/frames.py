"""Read-side queries that return pandas DataFrames (for the API, notebooks and the UI)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

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


def comparisons_query(f: ComparisonFilter = ComparisonFilter(), *, with_content: bool = True) -> Select:
    left_gen, right_gen = aliased(Generation), aliased(Generation)
    left_con, right_con = aliased(Contender), aliased(Contender)
    winner = case((Comparison.outcome == "left", left_con.name),
                  (Comparison.outcome == "right", right_con.name), else_=None)
    columns = [
        Comparison.id, Comparison.created_at, Comparison.prompt_id, Prompt.prompt_set,
        left_con.name.label("left_contender"), right_con.name.label("right_contender"),
        Comparison.left_generation_id, Comparison.right_generation_id,
        Comparison.outcome, winner.label("winner"), Rater.name.label("rater"),
        Comparison.rationale, Comparison.decision_ms, Comparison.session_id, Comparison.group_id,
        Comparison.item_id, Comparison.source,
    ]
    if with_content:
        columns[3:3] = [Prompt.text.label("prompt")]
        columns += [left_gen.text.label("left_text"), right_gen.text.label("right_text"),
                    left_gen.media_path.label("left_media"), right_gen.media_path.label("right_media")]
    query = (select(*columns)
             .join(Prompt, Prompt.id == Comparison.prompt_id)
             .join(left_con, left_con.id == Comparison.left_contender_id)
             .join(right_con, right_con.id == Comparison.right_contender_id)
             .join(Rater, Rater.id == Comparison.rater_id))
    if with_content:
        query = (query.join(left_gen, left_gen.id == Comparison.left_generation_id)
                 .join(right_gen, right_gen.id == Comparison.right_generation_id))
    conditions = []
    if f.prompt_set is not None:
        conditions.append(Prompt.prompt_set == f.prompt_set)
    if f.contender is not None:
        conditions.append(or_(left_con.name == f.contender, right_con.name == f.contender))
    if f.rater is not None:
        conditions.append(Rater.name == f.rater)
    if f.source is not None:
        conditions.append(Comparison.source == f.source)
    if f.since is not None:
        conditions.append(Comparison.created_at >= f.since)
    if f.until is not None:
        conditions.append(Comparison.created_at < f.until)
    if f.min_id is not None:
        conditions.append(Comparison.id >= f.min_id)
    if f.max_id is not None:
        conditions.append(Comparison.id <= f.max_id)
    if conditions:
        query = query.where(and_(*conditions))
    query = query.order_by(Comparison.id.desc() if f.newest_first else Comparison.id)
    if f.limit is not None:
        query = query.limit(f.limit)
    return query


def read_frame(session: Session, query: Select) -> pd.DataFrame:
    result = session.execute(query)
    # Plain tuples: pandas inspects Row objects attribute by attribute, twice as slow.
    return pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))


def comparisons(session: Session, f: ComparisonFilter = ComparisonFilter(), *,
                with_content: bool = True) -> pd.DataFrame:
    return read_frame(session, comparisons_query(f, with_content=with_content))


def generations(session: Session, *, contender: str | None = None, prompt_set: str | None = None,
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
    return read_frame(session, query)


def contenders(session: Session) -> pd.DataFrame:
    left = (select(Comparison.left_contender_id.label("cid"), func.count().label("n"))
            .group_by(Comparison.left_contender_id))
    right = (select(Comparison.right_contender_id.label("cid"), func.count().label("n"))
             .group_by(Comparison.right_contender_id))
    votes = {}
    for query in (left, right):
        for cid, n in session.execute(query):
            votes[cid] = votes.get(cid, 0) + n
    generated = dict(session.execute(select(Generation.contender_id, func.count())
                                     .group_by(Generation.contender_id)).all())
    rows = session.scalars(select(Contender).order_by(Contender.id)).all()
    return pd.DataFrame(
        [{"id": c.id, "name": c.name, "kind": c.kind, "backend": c.backend, "model": c.model,
          "params": c.params, "revision": c.revision, "enabled": c.enabled,
          "generations": generated.get(c.id, 0), "votes": votes.get(c.id, 0), "created_at": c.created_at}
         for c in rows],
        columns=["id", "name", "kind", "backend", "model", "params", "revision", "enabled",
                 "generations", "votes", "created_at"])


def counts(session: Session) -> dict[str, int]:
    """How many of each thing the studio holds (for `studio stats` and the overview)."""
    def count(model) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    open_items = session.scalar(select(func.count()).select_from(RatingItem)
                                .where(RatingItem.votes_received < RatingItem.votes_wanted)) or 0
    return {
        "prompts": count(Prompt), "contenders": count(Contender), "generations": count(Generation),
        "comparisons": count(Comparison), "raters": count(Rater), "ready_items": open_items,
        "jobs": count(Job), "reward_models": count(RewardModel),
    }
