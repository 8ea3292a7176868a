"""The reward model's guess after a vote: who sees it, and which models may be shown.

A guess shown to raters anchors their next votes, so it is shown to admins, and to raters
only while an admin has turned that on (Settings tab, for this server run), and only when
the model that made it is active and passed the activation gate.

The gate: the decision the activation gate stored with the version (`gate["passed"]`,
rewards/gate.py); a version trained before the gate is not shown. `gate()` is the one hook.
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
    """An active version whose stored gate decision says passed (a version trained before
    the gate has none, and is not shown)."""
    if not row.get("active"):
        return False
    if "gate" in row:
        decision = row["gate"]
        if isinstance(decision, dict):
            return bool(decision.get("passed"))
        return decision == "passed"          # the versions table's words: passed | not checked | why not
    accuracy, pairs = row.get("heldout_accuracy"), row.get("heldout_pairs")   # a store without the gate
    try:
        return float(accuracy) >= MIN_ACCURACY and int(pairs) >= MIN_HELDOUT
    except (TypeError, ValueError):
        return False


def html(predicted: Any) -> str:
    prob_left = float(getattr(predicted, "prob_left", predicted))
    side, prob = ("A", prob_left) if prob_left >= 0.5 else ("B", 1 - prob_left)
    version = getattr(predicted, "version", None)
    who = f"Reward model v{version}" if version is not None else "The reward model"
    spread = getattr(predicted, "spread", None)
    sure = f" ± {spread:.0%} across its ensemble" if spread is not None else ""
    return render.note(f"{who} predicted {side} is better ({prob:.0%}{sure}) for the pair you just rated.")
