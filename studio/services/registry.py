"""The reward-model registry: which versions exist, which one is active per kind of output,
loading them (a small cache of loaded models), and the active model's view of a vote.

    registry.load("active")             # a RewardModel ready to score
    registry.activate(3)
    registry.forget()                   # drop loaded models (after a new version registers)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pandas as pd

from studio.artifacts import ArtifactStore
from studio.config import StudioConfig
from studio.errors import InputError, NotFoundError
from studio.store import Store
from studio.store.reward_models import RewardModelRecord

LOADED_MODELS_KEPT = 2


class Prediction(float):
    """P(left side wins) from a reward model, a float that also says which version made it."""

    def __new__(cls, prob_left: float, version: int, spread: float | None = None):
        value = super().__new__(cls, prob_left)
        value.version = version
        value.spread = spread        # the ensemble's standard deviation of it (None: no ensemble, or stored)
        return value

    @property
    def prob_left(self) -> float:
        return float(self)


def gate_status(record: RewardModelRecord) -> str:
    """What the activation gate said of a version, in words."""
    from studio.rewards.gate import status_of

    status = status_of(record.gate)
    return "passed the activation gate" if status == "passed" else f"did not pass the activation gate ({status})"


class RewardRegistry:
    def __init__(self, store: Store, config: StudioConfig, artifacts: ArtifactStore):
        self.store = store
        self.config = config
        self.artifacts = artifacts
        self._loaded: OrderedDict[int, Any] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def embeddings_dir(self):
        return self.config.data_dir / "embeddings"

    # -- versions --------------------------------------------------------------------------

    def record(self, version: int | str = "active", *, tx=None) -> RewardModelRecord:
        """A version's record: "active" (text first, then image), "latest", or a number."""
        if tx is None:
            with self.store.reader() as reader:
                return self.record(version, tx=reader)
        repo = tx.reward_models
        if isinstance(version, str) and version.strip().lower() == "active":
            record = repo.active("text") or repo.active("image")
            if record is None:
                raise NotFoundError("no active reward model yet: train one with studio.train_reward_model() "
                                    "or `studio train --data DIR`")
            return record
        if isinstance(version, str) and version.strip().lower() == "latest":
            latest = repo.next_version() - 1
            if latest < 1:
                raise NotFoundError("no reward model yet: train one with studio.train_reward_model()")
            return repo.get(latest)
        try:
            number = int(str(version).strip().lower().lstrip("v"))
        except ValueError:
            raise InputError(f"a reward model version is 'active', 'latest' or a number, got {version!r}") from None
        return repo.get(number)

    def active_record(self, kind: str) -> RewardModelRecord | None:
        with self.store.reader() as tx:
            return tx.reward_models.active(kind)

    def frame(self) -> pd.DataFrame:
        with self.store.reader() as tx:
            return tx.reward_models.frame()

    def activate(self, version: int) -> None:
        """Make a version active; one that did not pass the activation gate is refused."""
        with self.store.transaction() as tx:
            record = tx.reward_models.get(int(version))
            if not record.gate_passed:
                raise InputError(f"reward model v{record.version} cannot be activated: {gate_status(record)}")
            tx.reward_models.activate(int(version))

    def steering_model(self, version: int | str = "active"):
        """The model best-of-n (and rm-dpo) may steer with: `(RewardModel, "")`, or `(None, why
        not)` when there is no such version or it did not pass the activation gate."""
        try:
            record = self.record(version)
        except NotFoundError as exc:
            return None, str(exc)
        if not record.gate_passed:
            return None, f"reward model v{record.version} {gate_status(record)}"
        return self.load(record.version), ""

    # -- loaded models ---------------------------------------------------------------------

    def load(self, version: int | str = "active"):
        """A loaded `RewardModel`; the last LOADED_MODELS_KEPT versions stay loaded."""
        from studio.rewards.model import load

        record = self.record(version)
        with self._lock:
            model = self._loaded.get(record.version)
            if model is None:
                model = load(self.checkpoint_dir(record), version=record.version, cache_root=self.embeddings_dir)
                self._loaded[record.version] = model
                while len(self._loaded) > LOADED_MODELS_KEPT:
                    self._loaded.popitem(last=False)
            self._loaded.move_to_end(record.version)
        model.active = record.active
        return model

    def checkpoint_dir(self, record: RewardModelRecord) -> Path:
        """A local directory holding a version's checkpoint: its key in the artifact store
        (downloaded once into this machine's cache), or the absolute path a version was
        registered under before checkpoints had keys (`studio db upgrade` rewrites those that
        lie in the data dir)."""
        stored = record.checkpoint_path
        if Path(stored).is_absolute():
            return Path(stored)
        return self.artifacts.tree(stored)

    def forget(self) -> None:
        """Drop the loaded models (a version was registered or activated meanwhile)."""
        with self._lock:
            self._loaded.clear()

    # -- predictions -----------------------------------------------------------------------

    def predict_vote(self, comparison_id: int) -> Prediction | None:
        """The active model's P(left wins) for a vote, computed once and stored; None without
        an active model for that kind of output."""
        from studio.rewards.data import from_comparisons

        with self.store.reader() as tx:
            row = tx.reward_models.comparison_row(int(comparison_id))
            kind = "image" if row["left_media"] else "text"
            active = tx.reward_models.active(kind)
            if active is None:
                return None
            stored = tx.reward_models.prediction(int(comparison_id), active.id)
        if stored is not None:
            return Prediction(stored, active.version)
        data = from_comparisons([{**row, "outcome": "left"}], media_file=self.media_file)
        model = self.load(active.version)
        first, second = data.items[data.pairs[0].left], data.items[data.pairs[0].right]
        prob, spread = model.prob_first_wins_with_spread(first, second)
        with self.store.transaction() as tx:
            tx.reward_models.save_predictions(active.id, {int(comparison_id): prob})
        return Prediction(prob, active.version, spread)

    def agreement(self, version: int | str = "active") -> dict[str, Any]:
        """How often a model's stored predictions matched the human's choice on decisive votes."""
        with self.store.reader() as tx:
            try:
                record = self.record(version, tx=tx)
            except NotFoundError:
                return {"version": None, "votes": 0, "agree": 0.0, "agreement": None}
            return {"version": record.version, **tx.reward_models.agreement(record.id)}

    def media_file(self, key: str) -> str:
        """The local file of a media key (what image reward models read)."""
        return str(self.artifacts.path(key))
