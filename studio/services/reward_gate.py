"""The activation gate as a service: on one held-out set, measure a new version, the
"longer answer wins" rule and the best version so far (rewards/gate.py decides), and say
whether it may become active.

    decision = evaluate_gate(registry, heldout, new_rewards, kind="text")
    may_activate("if_better", decision)
"""

from __future__ import annotations

from typing import Any

from studio.errors import StudioError
from studio.services.registry import RewardRegistry


def evaluate_gate(registry: RewardRegistry, heldout, rewards, *, kind: str):
    """The gate's decision for rewards (one per held-out item) on `heldout`, compared with the
    best gated version of `kind` so far (re-scored on these very votes)."""
    from studio.rewards.gate import GateDecision, correctness, decide, length_correctness

    if heldout is None or not heldout.pairs or rewards is None:
        return GateDecision(False, "no held-out votes to measure it on: record votes on more prompts")
    triples = [(p.left, p.right, p.target) for p in heldout.pairs]
    prompts = [p.prompt for p in heldout.pairs if p.target != 0.5]
    values = [float(x) for x in rewards]
    lengths = [float(len(item.text or "")) for item in heldout.items]
    best_record, best = _best_so_far(registry, heldout, kind)
    return decide(correctness(values, triples), length_correctness(lengths, triples), prompts,
                  best=None if best is None else correctness(best, triples),
                  best_version=None if best_record is None else best_record.version)


def may_activate(rule: str, decision) -> bool:
    """if_better: the gate passed; always: better than chance and than length (whatever the
    best so far); never: no. No rule activates a version that is not better than chance or
    than length."""
    if rule == "never":
        return False
    honest = decision.checks.get("better_than_chance", False) and decision.checks.get("better_than_length", False)
    return honest if rule == "always" else decision.passed


def gate_metrics(decision) -> dict[str, Any]:
    """The decision's figures as metrics (flat, for tables and job results)."""
    out: dict[str, Any] = {"gate": decision.status()}
    if decision.accuracy is not None:
        out["heldout_low"], out["heldout_high"] = decision.accuracy.low, decision.accuracy.high
        out["heldout_prompts"] = decision.accuracy.prompts
    if decision.length_accuracy is not None:
        out["length_rule_accuracy"] = decision.length_accuracy.mean
    if decision.best_version is not None:
        out["previous_version"] = decision.best_version
        if decision.versus_best is not None and decision.accuracy is not None:
            out["previous_heldout_accuracy"] = decision.accuracy.mean - decision.versus_best.mean
    return out


def _best_so_far(registry: RewardRegistry, heldout, kind: str):
    """(record, rewards on the held-out items) of the best gated version of `kind`; (None,
    None) without one or when it cannot be loaded."""
    with registry.store.reader() as tx:
        record = tx.reward_models.best_gated(kind)
    if record is None:
        return None, None
    try:
        model = registry.load(record.version)
    except (StudioError, OSError):
        return None, None
    return record, model.score_items(heldout.items)
