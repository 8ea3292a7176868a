"""Reward model against humans: each version's accuracy, as recorded and as observed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

COLUMNS = ["version", "heldout_accuracy", "heldout_low", "heldout_high", "length_rule_accuracy", "gate", "active",
           "created_at", "predicted_votes", "vote_accuracy"]


def reward_model_accuracy(models: pd.DataFrame, predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per reward-model version, oldest first.

    `models` has id, version, active, created_at and metrics (a dict: its
    `heldout_accuracy` is the accuracy measured on held-out human votes when the version
    was trained; NaN where missing). `predictions` (reward_model_id, predicted, correct)
    counts the decisive human votes each version predicted and how many it got right:
    `vote_accuracy` is correct / predicted (NaN where it predicted none). `heldout_low`,
    `heldout_high` (the 95% cluster-by-prompt interval), `length_rule_accuracy` (the
    "longer answer wins" rule on the same votes) and `gate` come from the activation gate.
    """
    if models.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "gate" else float) for c in COLUMNS})
    frame = models.copy()
    for column in ("heldout_accuracy", "heldout_low", "heldout_high", "length_rule_accuracy"):
        frame[column] = [_number((metrics or {}).get(column)) for metrics in frame["metrics"]]
    frame["gate"] = [(metrics or {}).get("gate") or "not checked" for metrics in frame["metrics"]]
    if predictions is not None and not predictions.empty:
        counts = predictions.set_index("reward_model_id")
        frame["predicted_votes"] = frame["id"].map(counts["predicted"]).fillna(0).astype(int)
        correct = frame["id"].map(counts["correct"]).astype(float)
    else:
        frame["predicted_votes"] = 0
        correct = pd.Series(np.nan, index=frame.index)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["vote_accuracy"] = np.where(frame["predicted_votes"] > 0, correct / frame["predicted_votes"], np.nan)
    frame["active"] = frame["active"].astype(bool)
    return frame.sort_values("version").reset_index(drop=True)[COLUMNS]


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number
