"""Reward-model versions, their predictions on human votes, and the training data read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update

from studio.errors import NotFoundError
from studio.records import TEXTLESS_SHA256
from studio.store.counted import counted_votes
from studio.store.schema import Comparison, HeldoutPrompt, RewardModel, RewardPrediction, utcnow
from studio.store.sql import Repo, chunked, insert_ignoring, to_record
from studio.store.vote_sides import (
    LEFT,
    PROMPT,
    RIGHT,
    VOTE,
    side_content,
    vote_sides,
    vote_sides_from,
)

TRAINABLE = ("left", "right", "tie")   # "both_bad" says nothing about which side is better
COLUMNS = ["version", "kind", "mode", "backbone", "active", "created_at", "heldout_accuracy",
           "heldout_low", "heldout_high", "gate", "heldout_pairs", "train_pairs", "loss", "wall_s", "data_max_comparison_id", "job_id",
           "checkpoint_path", "id", "metrics"]


@dataclass(frozen=True)
class RewardModelRecord:
    id: int
    version: int
    kind: str
    mode: str
    backbone: str
    checkpoint_path: str
    metrics: dict[str, Any]
    data_max_comparison_id: int
    active: bool
    job_id: int | None
    created_at: datetime
    gate: dict[str, Any] | None = None

    @property
    def gate_passed(self) -> bool:
        """The activation gate let it through (False for a version trained before the gate)."""
        return bool(self.gate and self.gate.get("passed"))


class RewardModelRepo(Repo):
    # -- versions --------------------------------------------------------------------------

    def next_version(self) -> int:
        return int(self.session.scalar(select(func.max(RewardModel.version))) or 0) + 1

    def register(self, *, version: int, kind: str, mode: str, backbone: str, checkpoint_path: str,
                 metrics: dict[str, Any], data_max_comparison_id: int, job_id: int | None,
                 gate: dict[str, Any] | None = None) -> RewardModelRecord:
        row = RewardModel(version=version, kind=kind, mode=mode, backbone=backbone,
                          checkpoint_path=checkpoint_path, metrics=metrics, gate=gate,
                          data_max_comparison_id=data_max_comparison_id, active=False, job_id=job_id)
        self.session.add(row)
        self.session.flush()
        return to_record(RewardModelRecord, row)

    def activate(self, version: int) -> RewardModelRecord:
        """Make one version active (and every other of its kind inactive) in this transaction."""
        target = self.get(version)
        self.session.execute(update(RewardModel).where(RewardModel.active.is_(True), RewardModel.version != version,
                                                       RewardModel.kind == target.kind)
                             .values(active=False))
        self.session.execute(update(RewardModel).where(RewardModel.version == version).values(active=True))
        return self.get(target.version)

    def best_gated(self, kind: str) -> RewardModelRecord | None:
        """The version of this kind that passed the gate with the highest held-out accuracy."""
        rows = self.session.scalars(select(RewardModel).where(RewardModel.kind == kind)).all()
        passed = [r for r in rows if r.gate and r.gate.get("passed")]
        if not passed:
            return None
        best = max(passed, key=lambda r: ((r.metrics or {}).get("heldout_accuracy") or 0.0, r.version))
        return to_record(RewardModelRecord, best)

    def get(self, version: int) -> RewardModelRecord:
        row = self.session.scalars(select(RewardModel).where(RewardModel.version == version)).one_or_none()
        if row is None:
            raise NotFoundError(f"no reward model version {version}: see `studio.reward_models()`")
        self.session.refresh(row)
        return to_record(RewardModelRecord, row)

    def active(self, kind: str | None = None) -> RewardModelRecord | None:
        query = select(RewardModel).where(RewardModel.active.is_(True))
        if kind is not None:
            query = query.where(RewardModel.kind == kind)
        row = self.session.scalars(query.order_by(RewardModel.version.desc()).limit(1)).one_or_none()
        if row is None:
            return None
        self.session.refresh(row)
        return to_record(RewardModelRecord, row)

    def frame(self) -> pd.DataFrame:
        rows = self.session.scalars(select(RewardModel).order_by(RewardModel.version)).all()
        records = []
        for r in rows:
            metrics = r.metrics or {}
            accuracy = (r.gate or {}).get("accuracy") or {}
            records.append({"version": r.version, "kind": r.kind, "mode": r.mode, "backbone": r.backbone,
                            "active": r.active, "created_at": r.created_at,
                            "heldout_accuracy": metrics.get("heldout_accuracy"),
                            "heldout_low": accuracy.get("low"), "heldout_high": accuracy.get("high"),
                            "gate": _gate_status(r.gate),
                            "heldout_pairs": metrics.get("heldout_pairs"),
                            "train_pairs": metrics.get("train_pairs"), "loss": metrics.get("loss"),
                            "wall_s": metrics.get("wall_s"), "data_max_comparison_id": r.data_max_comparison_id,
                            "job_id": r.job_id, "checkpoint_path": r.checkpoint_path, "id": r.id,
                            "metrics": metrics})
        frame = pd.DataFrame(records, columns=COLUMNS)
        for column in ("heldout_accuracy", "heldout_low", "heldout_high"):
            frame[column] = frame[column].astype("float64")
        return frame

    # -- the fixed held-out set ------------------------------------------------------------

    def heldout_assignments(self, prompt_hashes: list[str]) -> dict[str, bool]:
        """The stored side (True: held out) of the prompts already assigned."""
        out: dict[str, bool] = {}
        for part in chunked(sorted(set(prompt_hashes)), 900):
            rows = self.session.execute(select(HeldoutPrompt.prompt_sha256, HeldoutPrompt.heldout)
                                        .where(HeldoutPrompt.prompt_sha256.in_(list(part)))).all()
            out.update({h: bool(held) for h, held in rows})
        return out

    def assign_heldout(self, sides: dict[str, bool], fraction: float) -> None:
        """Record new prompts' sides; a prompt already assigned keeps its side."""
        rows = [{"prompt_sha256": h, "heldout": held, "fraction": float(fraction), "assigned_at": utcnow()}
                for h, held in sides.items()]
        statement = insert_ignoring(self.session, HeldoutPrompt.__table__, ["prompt_sha256"])
        for part in chunked(rows, 2000):
            self.session.execute(statement, list(part))

    # -- the data a training reads ---------------------------------------------------------

    def max_comparison_id(self) -> int:
        return int(self.session.scalar(select(func.max(Comparison.id))) or 0)

    def data_through(self, mode: str | None, kind: str | None = None) -> int:
        """The newest vote the versions of this mode (any mode: None) and kind of output
        (any: None) were trained on."""
        query = select(func.max(RewardModel.data_max_comparison_id))
        if mode is not None:
            query = query.where(RewardModel.mode == mode)
        if kind is not None:
            query = query.where(RewardModel.kind == kind)
        return int(self.session.scalar(query) or 0)

    def votes_after(self, comparison_id: int, kind: str | None = None) -> int:
        """Trainable votes (not "both bad", not a battle log's text-less ones) recorded after
        a comparison id, on outputs of one kind (text or image; None: both)."""
        query = (select(func.count()).select_from(vote_sides_from(prompt=False))
                 .where(VOTE.c.id > comparison_id, VOTE.c.outcome.in_(TRAINABLE), counted_votes(),
                        LEFT.c.content_sha256 != TEXTLESS_SHA256, RIGHT.c.content_sha256 != TEXTLESS_SHA256))
        if kind is not None:
            has_media = LEFT.c.media_path.is_not(None)
            query = query.where(has_media if kind == "image" else ~has_media)
        return int(self.session.scalar(query) or 0)

    def preference_rows(self, max_comparison_id: int, *, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Trainable counted votes up to an id, joined to their prompt and both generations."""
        last = 0
        while True:
            query = (_vote_with_sides()
                     .where(VOTE.c.id > last, VOTE.c.id <= max_comparison_id, VOTE.c.outcome.in_(TRAINABLE),
                            counted_votes(VOTE))
                     .order_by(VOTE.c.id).limit(batch))
            rows = self.session.execute(query).mappings().all()
            if not rows:
                return
            yield from (dict(r) for r in rows)
            last = rows[-1]["id"]

    def comparison_row(self, comparison_id: int) -> dict[str, Any]:
        """One vote with its prompt and both generations (for a prediction)."""
        query = _vote_with_sides().where(VOTE.c.id == comparison_id)
        row = self.session.execute(query).mappings().one_or_none()
        if row is None:
            raise NotFoundError(f"no comparison with id {comparison_id}")
        return dict(row)

    # -- predictions -----------------------------------------------------------------------

    def save_predictions(self, reward_model_id: int, probs: dict[int, float]) -> None:
        rows = [{"comparison_id": c, "reward_model_id": reward_model_id, "prob_left": float(p)}
                for c, p in probs.items()]
        statement = insert_ignoring(self.session, RewardPrediction.__table__, ["comparison_id", "reward_model_id"])
        for part in chunked(rows, 2000):
            self.session.execute(statement, list(part))

    def prediction(self, comparison_id: int, reward_model_id: int) -> float | None:
        return self.session.scalar(select(RewardPrediction.prob_left).where(
            RewardPrediction.comparison_id == comparison_id, RewardPrediction.reward_model_id == reward_model_id))

    def agreement(self, reward_model_id: int) -> dict[str, Any]:
        """How often a model's stored predictions picked the side humans chose (decisive votes)."""
        rows = self.session.execute(
            select(Comparison.outcome, RewardPrediction.prob_left)
            .join(Comparison, Comparison.id == RewardPrediction.comparison_id)
            .where(RewardPrediction.reward_model_id == reward_model_id,
                   Comparison.outcome.in_(("left", "right")), counted_votes())).all()
        agree = sum(1.0 if (p > 0.5) == (o == "left") else 0.0 for o, p in rows if p != 0.5)
        agree += sum(0.5 for _, p in rows if p == 0.5)
        return {"votes": len(rows), "agree": agree, "agreement": agree / len(rows) if rows else None}


def _gate_status(gate: dict[str, Any] | None) -> str:
    if not gate:
        return "not checked"
    return "passed" if gate.get("passed") else str(gate.get("reason") or "failed")


def _vote_with_sides():
    """A vote's id and outcome with its prompt and both generations (text, media, content hash)."""
    return vote_sides(VOTE.c.id, VOTE.c.outcome, PROMPT.c.text.label("prompt"), *side_content(hashes=True))
