"""The activation gate: may a new reward-model version steer anything?

On its held-out votes a version must beat, each beyond the noise,
- chance (50% agreement on decisive votes), and
- the "longer answer wins" rule (a model that only learned length is no model),
and must not be worse, beyond the noise, than the best version so far on the same votes
(so many small steps down cannot add up to a drift).

Noise: votes that share a prompt are correlated (one prompt's outputs are compared with
each other many times), so the standard error of a mean agreement is cluster-robust by
prompt (the sandwich estimator with the small-sample factor G/(G-1)), and an interval is
mean +- 1.96 of it. With fewer than MIN_PROMPTS held-out prompts nothing can be told and
the gate says so.

Pure: per-pair correctness lists in, a `GateDecision` out (see `correctness`,
`length_correctness`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

Z95 = 1.959964
MIN_PROMPTS = 6


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    prompts: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    reason: str                                 # "" when passed; what failed, in words
    accuracy: Interval | None = None
    length_accuracy: Interval | None = None
    over_length: Interval | None = None         # accuracy - length rule's, per pair
    versus_best: Interval | None = None         # accuracy - best version's, per pair
    best_version: int | None = None
    pairs: int = 0
    checks: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> GateDecision | None:
        if not data:
            return None
        values = dict(data)
        for name in ("accuracy", "length_accuracy", "over_length", "versus_best"):
            if values.get(name) is not None:
                values[name] = Interval(**values[name])
        return cls(**values)

    def status(self) -> str:
        """One short phrase for tables: 'passed' or why not."""
        return "passed" if self.passed else self.reason


def status_of(gate: dict[str, Any] | None) -> str:
    """What a stored gate decision says, for a version trained before the gate: 'not checked'."""
    decision = GateDecision.from_dict(gate)
    return "not checked (trained before the gate: retrain)" if decision is None else decision.status()


def cluster_interval(values: Sequence[float], clusters: Sequence[str]) -> Interval | None:
    """Mean of `values` with a 95% interval from the cluster-robust standard error."""
    if not values:
        return None
    n = len(values)
    mean = sum(values) / n
    sums: dict[str, float] = defaultdict(float)
    for value, cluster in zip(values, clusters, strict=True):
        sums[cluster] += value - mean
    groups = len(sums)
    if groups < 2:
        return Interval(mean, -math.inf, math.inf, groups)
    variance = groups / (groups - 1) * sum(s * s for s in sums.values()) / (n * n)
    se = math.sqrt(variance)
    return Interval(mean, mean - Z95 * se, mean + Z95 * se, groups)


def correctness(rewards: Sequence[float], pairs: Sequence[tuple[int, int, float]]) -> list[float]:
    """Per decisive pair (left, right, target): 1 when the rewards rank it as the human did,
    0 when not, 0.5 for equal rewards."""
    out = []
    for left, right, target in pairs:
        if target == 0.5:
            continue
        diff = float(rewards[left]) - float(rewards[right])
        out.append(0.5 if diff == 0 else float((diff > 0) == (target > 0.5)))
    return out


def length_correctness(lengths: Sequence[float], pairs: Sequence[tuple[int, int, float]]) -> list[float]:
    """The "longer answer wins" rule's correctness on the same decisive pairs."""
    return correctness(lengths, pairs)


def decide(model: Sequence[float], length_rule: Sequence[float], prompts: Sequence[str], *,
           best: Sequence[float] | None = None, best_version: int | None = None) -> GateDecision:
    """The gate on one held-out set: `model`, `length_rule` and `best` are per-pair
    correctness on the same decisive pairs, `prompts` each pair's prompt (its cluster)."""
    pairs = len(model)
    groups = len(set(prompts))
    if pairs == 0 or groups < MIN_PROMPTS:
        return GateDecision(False, f"too few held-out prompts to tell ({groups} < {MIN_PROMPTS}): "
                                   "record votes on more prompts", pairs=pairs)
    accuracy = cluster_interval(model, prompts)
    length = cluster_interval(length_rule, prompts)
    over_length = cluster_interval([a - b for a, b in zip(model, length_rule, strict=True)], prompts)
    versus_best = (cluster_interval([a - b for a, b in zip(model, best, strict=True)], prompts)
                   if best is not None else None)
    checks = {"better_than_chance": accuracy.low > 0.5,
              "better_than_length": over_length.low > 0.0,
              "not_worse_than_best": versus_best is None or versus_best.high >= 0.0}
    reasons = []
    if not checks["better_than_chance"]:
        reasons.append("not better than chance")
    if not checks["better_than_length"]:
        reasons.append("not better than length")
    if not checks["not_worse_than_best"]:
        reasons.append(f"worse than the best so far (v{best_version})")
    return GateDecision(not reasons, " / ".join(reasons), accuracy=accuracy, length_accuracy=length,
                        over_length=over_length, versus_best=versus_best, best_version=best_version,
                        pairs=pairs, checks=checks)
