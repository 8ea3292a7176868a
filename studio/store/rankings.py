"""Lean reads for rankings: votes without their texts, reward models and their predictions.

Leaderboards read every vote, so the vote query fetches only ids and outcomes and maps
contender and rater ids to names afterwards (two small lookups instead of four joins per row).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from studio.store.counted import counted_votes, excluded_vote
from studio.store.schema import (
    Comparison,
    Contender,
    Generation,
    Prompt,
    Rater,
    RewardModel,
    RewardPrediction,
)
from studio.store.sql import Repo

VOTE_COLUMNS = ["id", "prompt_id", "left_generation_id", "right_generation_id", "left_contender",
                "right_contender", "outcome", "rater", "decision_ms"]


class RankingRepo(Repo):
    def votes(self, *, prompt_set: str | None = None, source: str | None = None) -> pd.DataFrame:
        """Every counted vote (oldest first), optionally of one prompt set and/or one source."""
        query = select(Comparison.id, Comparison.prompt_id, Comparison.left_generation_id,
                       Comparison.right_generation_id, Comparison.left_contender_id,
                       Comparison.right_contender_id, Comparison.outcome, Comparison.rater_id,
                       Comparison.decision_ms).where(counted_votes()).order_by(Comparison.id)
        if prompt_set is not None:
            query = query.join(Prompt, Prompt.id == Comparison.prompt_id).where(Prompt.prompt_set == prompt_set)
        if source is not None:
            query = query.where(Comparison.source == source)
        frame = _frame(self.session, query, ["id", "prompt_id", "left_generation_id", "right_generation_id",
                                             "left_contender_id", "right_contender_id", "outcome", "rater_id",
                                             "decision_ms"])
        contenders = dict(self.session.execute(select(Contender.id, Contender.name)).all())
        raters = dict(self.session.execute(select(Rater.id, Rater.name)).all())
        frame["left_contender"] = frame.pop("left_contender_id").map(contenders)
        frame["right_contender"] = frame.pop("right_contender_id").map(contenders)
        frame["rater"] = frame.pop("rater_id").map(raters)
        frame["decision_ms"] = frame["decision_ms"].astype("float64")
        return frame[VOTE_COLUMNS]

    def rater_votes(self) -> pd.DataFrame:
        """Every vote that is not superseded, excluded ones too (an `excluded` column), with
        its session and the characters of both answers (`reading_chars`): what the raters
        view judges each rater by."""
        left, right = Generation.__table__.alias("left_side"), Generation.__table__.alias("right_side")
        chars = func.coalesce(func.length(left.c.text), 0) + func.coalesce(func.length(right.c.text), 0)
        query = (select(Comparison.id, Comparison.left_generation_id, Comparison.right_generation_id,
                        Comparison.left_contender_id, Comparison.right_contender_id, Comparison.outcome,
                        Comparison.rater_id, Comparison.decision_ms, Comparison.session_id, chars,
                        case((excluded_vote(), 1), else_=0))
                 .join(left, left.c.id == Comparison.left_generation_id)
                 .join(right, right.c.id == Comparison.right_generation_id)
                 .where(counted_votes(include_excluded=True)).order_by(Comparison.id))
        frame = _frame(self.session, query, ["id", "left_generation_id", "right_generation_id", "left_contender_id",
                                             "right_contender_id", "outcome", "rater_id", "decision_ms",
                                             "session_id", "reading_chars", "excluded"])
        contenders = dict(self.session.execute(select(Contender.id, Contender.name)).all())
        raters = dict(self.session.execute(select(Rater.id, Rater.name)).all())
        frame["left_contender"] = frame.pop("left_contender_id").map(contenders)
        frame["right_contender"] = frame.pop("right_contender_id").map(contenders)
        frame["rater"] = frame.pop("rater_id").map(raters)
        frame["decision_ms"] = frame["decision_ms"].astype("float64")
        frame["excluded"] = frame["excluded"].astype(bool)
        return frame

    def texts(self, generation_ids) -> dict[int, str | None]:
        """Generation id -> its text (None for an image or a text-less imported vote side)."""
        from studio.store.sql import chunked

        found: dict[int, str | None] = {}
        for part in chunked(sorted({int(g) for g in generation_ids}), 5000):
            found.update(self.session.execute(select(Generation.id, Generation.text).where(Generation.id.in_(part))).all())
        return found

    def reward_models(self) -> pd.DataFrame:
        """id, version, active, created_at and the metrics dict of every reward model."""
        rows = self.session.execute(select(RewardModel.id, RewardModel.version, RewardModel.active,
                                           RewardModel.created_at, RewardModel.metrics)
                                    .order_by(RewardModel.version)).all()
        return pd.DataFrame(rows, columns=["id", "version", "active", "created_at", "metrics"])

    def active_predictions(self) -> pd.DataFrame:
        """comparison_id and prob_left of the active reward model (empty when none)."""
        query = (select(RewardPrediction.comparison_id, RewardPrediction.prob_left)
                 .join(RewardModel, RewardModel.id == RewardPrediction.reward_model_id)
                 .where(RewardModel.active.is_(True)))
        return pd.DataFrame(self.session.execute(query).all(), columns=["comparison_id", "prob_left"])

    def prediction_accuracy(self) -> pd.DataFrame:
        """Per reward model: decisive human votes it predicted (prob_left not 0.5) and how
        many of them it predicted the winner of."""
        correct = case((and_(RewardPrediction.prob_left > 0.5, Comparison.outcome == "left"), 1),
                       (and_(RewardPrediction.prob_left < 0.5, Comparison.outcome == "right"), 1), else_=0)
        query = (select(RewardPrediction.reward_model_id, func.count(), func.sum(correct))
                 .join(Comparison, Comparison.id == RewardPrediction.comparison_id)
                 .where(Comparison.outcome.in_(("left", "right")), RewardPrediction.prob_left != 0.5, counted_votes())
                 .group_by(RewardPrediction.reward_model_id))
        return pd.DataFrame(self.session.execute(query).all(), columns=["reward_model_id", "predicted", "correct"])


def _frame(session: Session, query, columns: list[str]) -> pd.DataFrame:
    """Run a query on the driver's own cursor and build the frame column by column.

    Plain driver tuples skip SQLAlchemy's row objects and pandas' per-row probing: about
    half the time on 100k votes. Only for queries whose columns need no type conversion
    (integers, strings, floats).
    """
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect)
    params = compiled.construct_params()
    if connection.dialect.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pd.DataFrame({name: list(column) for name, column in zip(columns, values, strict=True)},
                        columns=columns)
