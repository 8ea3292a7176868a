"""The reward model's guess after a vote: who sees it, and which models may be shown.

A guess shown to raters anchors their next votes, so it is shown to admins, and to raters
only while an admin has turned that on (Settings tab, for this server run), and only when
the model that made it is active and passed the activation gate.

The gate: a version row's `passed_gate` when the studio records one (the activation gate of
issue 19); until then, what the studio knows: a held-out accuracy of at least
`MIN_ACCURACY` on at least `MIN_HELDOUT` held-out pairs. `passed_gate()` is the one hook.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from studio.ui import render

MIN_ACCURACY = 0.6
MIN_HELDOUT = 20
CACHE_S = 30.0


class PredictionGate:
    """Per server: the admins' switch for raters, and each version's verdict (read at most
    every 30 s per version)."""

    def __init__(self, studio) -> None:
        self.studio = studio
        self.raters_see_it = False
        self._verdicts: dict[int, tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def shown_to(self, person) -> bool:
        return bool(person.is_admin or self.raters_see_it)

    def passed(self, version: int | None) -> bool:
        """Whether this reward-model version is active and passed the activation gate."""
        if version is None:
            return False
        now = time.monotonic()
        with self._lock:
            cached = self._verdicts.get(version)
        if cached is not None and now - cached[0] < CACHE_S:
            return cached[1]
        rows = self.studio.reward_models()
        found = rows[rows["version"] == version].to_dict("records") if not rows.empty else []
        verdict = bool(found) and gate(found[0])
        with self._lock:
            self._verdicts[version] = (now, verdict)
        return verdict


def gate(row: dict[str, Any]) -> bool:
    if not row.get("active"):
        return False
    if "passed_gate" in row and row["passed_gate"] is not None:
        return bool(row["passed_gate"])
    accuracy, pairs = row.get("heldout_accuracy"), row.get("heldout_pairs")
    try:
        return float(accuracy) >= MIN_ACCURACY and int(pairs) >= MIN_HELDOUT
    except (TypeError, ValueError):
        return False


def html(predicted: Any) -> str:
    prob_left = float(getattr(predicted, "prob_left", predicted))
    side, prob = ("A", prob_left) if prob_left >= 0.5 else ("B", 1 - prob_left)
    version = getattr(predicted, "version", None)
    who = f"Reward model v{version}" if version is not None else "The reward model"
    return render.note(f"{who} predicted {side} is better ({prob:.0%}) for the pair you just rated.")
