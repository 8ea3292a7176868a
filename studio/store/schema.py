"""The database schema as SQLAlchemy 2 typed tables.

Alembic migrations in `migrations/versions/` are the only way the schema changes; a test
checks that migrating an empty database to head gives exactly this metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

OUTCOMES = ("left", "right", "tie", "both_bad")
JOB_STATUSES = ("queued", "running", "done", "failed", "cancelled")
ROLES = ("rater", "admin")
KINDS = ("text", "image")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Created:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Rater(Created, Base):
    __tablename__ = "raters"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="rater")


class Prompt(Created, Base):
    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("prompt_set", "text_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    prompt_set: Mapped[str] = mapped_column(String(200), default="default", index=True)
    system_prompt: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(300), default="manual")


class Contender(Created, Base):
    __tablename__ = "contenders"
    __table_args__ = (CheckConstraint(_in("kind", KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    backend: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # An improved version (`NAME@v2`, ...) names the contender it was trained from, its
    # version in the family (1 for an original) and how it was made (method, votes and
    # prompts used, settings, metrics, library versions, its adapter's artifact key).
    # A plain column, like comparisons.superseded_by: adding a foreign key to an existing SQLite
    # table means rebuilding it, which its own foreign keys forbid.
    parent_id: Mapped[int | None] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=sql_text("1"))
    lineage: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Generation(Created, Base):
    """One output of one contender for one prompt: text, or an image file in media/."""

    __tablename__ = "generations"
    __table_args__ = (
        UniqueConstraint("prompt_id", "contender_id", "content_sha256"),
        CheckConstraint("text IS NOT NULL OR media_path IS NOT NULL", name="has_content"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"), index=True)
    contender_id: Mapped[int] = mapped_column(ForeignKey("contenders.id"), index=True)
    contender_revision: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str | None] = mapped_column(Text)
    media_path: Mapped[str | None] = mapped_column(String(500))
    content_sha256: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int | None] = mapped_column(BigInteger)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300), default="generated")


_WANTING = sql_text("votes_received < votes_wanted")


class RatingItem(Created, Base):
    """A ready-to-rate unit from the pool: a pair (2 generations) or a ranking grid (4)."""

    __tablename__ = "rating_items"
    __table_args__ = (
        CheckConstraint(_in("kind", ("pair", "grid")), name="kind"),
        Index("ix_rating_items_open", "prompt_set", "votes_received"),
        # Items still wanting votes, oldest first (in any set, and in one set): what the arena
        # picks from. Partial, so a pick skips the voted items (most of the table, in a
        # long-running studio) at once.
        Index("ix_rating_items_wanting", "id", sqlite_where=_WANTING, postgresql_where=_WANTING),
        Index("ix_rating_items_wanting_in_set", "prompt_set", "id", sqlite_where=_WANTING, postgresql_where=_WANTING),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), default="pair")
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"), index=True)
    prompt_set: Mapped[str] = mapped_column(String(200), default="default")
    # Generation ids in the order shown (left to right); the order is randomised at creation.
    generation_ids: Mapped[list[Any]] = mapped_column()
    votes_wanted: Mapped[int] = mapped_column(Integer, default=1)
    votes_received: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(50), default="pool")


class RatingAssignment(Base):
    """Which rater was shown which item, so nobody gets the same item twice."""

    __tablename__ = "rating_assignments"
    __table_args__ = (
        # Each rater's open item (shown, not voted on): looked up on every click.
        Index("ix_rating_assignments_open", "rater_id", sqlite_where=sql_text("completed_at IS NULL"),
              postgresql_where=sql_text("completed_at IS NULL")),
    )

    item_id: Mapped[int] = mapped_column(ForeignKey("rating_items.id"), primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"), primary_key=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The row that stands for a rater's vote on an item (a pair's one comparison, a ranking's
# first), not superseded: at most one per (item, rater).
_ITEM_VOTE = sql_text("item_id IS NOT NULL AND superseded_by IS NULL AND vote_part = 0")


class Comparison(Created, Base):
    """One human judgement between two generations, in the order they were shown."""

    __tablename__ = "comparisons"
    __table_args__ = (
        CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint("left_generation_id <> right_generation_id", name="two_sides"),
        Index("ix_comparisons_contenders", "left_contender_id", "right_contender_id"),
        Index("ix_comparisons_created_at", "created_at"),
        # One vote per rater per item: a second tab, a reload or a script cannot add another.
        Index("ix_comparisons_one_vote_per_item", "item_id", "rater_id", unique=True,
              sqlite_where=_ITEM_VOTE, postgresql_where=_ITEM_VOTE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("rating_items.id"), index=True)
    prompt_id: Mapped[int] = mapped_column(ForeignKey("prompts.id"), index=True)
    left_generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id"))
    right_generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id"))
    # Denormalised from the generations so leaderboards and exports need no join.
    left_contender_id: Mapped[int] = mapped_column(ForeignKey("contenders.id"))
    right_contender_id: Mapped[int] = mapped_column(ForeignKey("contenders.id"))
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(8))
    rationale: Mapped[str | None] = mapped_column(Text)
    decision_ms: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    session_id: Mapped[str | None] = mapped_column(String(100))
    group_id: Mapped[str | None] = mapped_column(String(100), index=True)
    source: Mapped[str] = mapped_column(String(300), default="ui", index=True)
    # Which comparison of its vote this row is: 0 for a pair's vote (or a vote without an
    # item) and a ranking's first comparison, 1, 2, ... for the rest of that ranking.
    vote_part: Mapped[int] = mapped_column(Integer, default=0, server_default=sql_text("0"))
    # Set on a rater's second vote on the same item (stored before the one-vote rule): the
    # id of the vote that counts. Superseded rows are kept but read by no leaderboard,
    # agreement, training or export (store/counted.py).
    superseded_by: Mapped[int | None] = mapped_column(Integer)


class RaterExclusion(Created, Base):
    """An admin left a rater's votes (all of them, or one session's) out of every count.
    The votes stay; deleting this row counts them again (store/counted.py)."""

    __tablename__ = "rater_exclusions"
    __table_args__ = (UniqueConstraint("rater_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("raters.id"))
    # '' excludes the rater (every session, later votes too); else only that session's votes.
    session_id: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")


class GoldItem(Created, Base):
    """A pair whose right answer an admin knows: served to each rater at `[pool] gold_rate`
    (never twice to one rater), their votes on it scored against `answer`."""

    __tablename__ = "gold_items"
    __table_args__ = (CheckConstraint(_in("answer", OUTCOMES), name="answer"),)

    item_id: Mapped[int] = mapped_column(ForeignKey("rating_items.id"), primary_key=True)
    # As the item shows it: left is the item's first generation.
    answer: Mapped[str] = mapped_column(String(8))


class Job(Created, Base):
    """Mirror of a background task: the one place UI, CLI and notebooks read status from."""

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATUSES), name="status"),
                      Index("ix_jobs_kind_status", "kind", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    step: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int | None] = mapped_column(Integer)
    eta_s: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(String(100))
    # Set while queued or running, cleared when the job ends: the unique index makes
    # "never two trainings at once" a database guarantee, not a race between workers.
    active_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    worker: Mapped[str | None] = mapped_column(String(200))
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RewardModel(Created, Base):
    __tablename__ = "reward_models"
    __table_args__ = (CheckConstraint(_in("kind", KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="text")
    mode: Mapped[str] = mapped_column(String(16), default="head")
    backbone: Mapped[str] = mapped_column(Text)
    checkpoint_path: Mapped[str] = mapped_column(Text)     # its key in the artifact store (migration 0004)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The last comparison id the training data included.
    data_max_comparison_id: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    # The activation gate's decision on its held-out votes (rewards/gate.py, migration 0008);
    # None for a version trained before the gate.
    gate: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class HeldoutPrompt(Base):
    """A prompt's side of the reward models' train/held-out split, decided the first time a
    training saw it and kept for the life of the studio (migration 0008): successive versions
    are measured on the same prompts, and no version trains on another's held-out prompt."""

    __tablename__ = "heldout_prompts"

    prompt_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    heldout: Mapped[bool] = mapped_column(Boolean)
    fraction: Mapped[float] = mapped_column(Float)     # the heldout_fraction it was assigned under
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RewardPrediction(Created, Base):
    """A reward model's predicted preference for a comparison a human judged."""

    __tablename__ = "reward_predictions"

    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id"), primary_key=True)
    reward_model_id: Mapped[int] = mapped_column(ForeignKey("reward_models.id"), primary_key=True)
    prob_left: Mapped[float] = mapped_column(Float)


class Setting(Base):
    """Settings an admin changes at run time (e.g. from the Settings tab)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
