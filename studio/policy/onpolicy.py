"""rm-dpo, the on-policy recipe (iterative DPO): sample k answers per prompt from the
contender, score them with the active reward model, train on best-vs-worst pairs. Only worth
doing when the reward model tells answers apart better than a coin: the studio asks its
activation gate (rewards/gate.py); `beats_chance` puts the held-out accuracy and its 95%
Wilson interval into words for the refusal and the lineage."""

from __future__ import annotations

from collections.abc import Sequence

from studio.policy.pairs import Pair, PairSet, best_vs_worst


def beats_chance(accuracy: float | None, n: int | None) -> tuple[bool, str]:
    """Whether a reward model's held-out accuracy is above 50% beyond the noise (the lower end
    of its 95% interval), and a line that says so."""
    if accuracy is None or not n:
        return False, "it has no held-out accuracy (too few votes held out)"
    from studio.ranking.winrates import wilson_interval

    low, high = wilson_interval(accuracy * n, n)
    verdict = f"held-out accuracy {accuracy:.1%} on {n} votes, 95% interval {low:.1%} to {high:.1%}"
    return low > 0.5, verdict


def onpolicy_pairs(prompts: Sequence[tuple[int, str, str | None]], answers: Sequence[Sequence[str]],
                   scores: Sequence[Sequence[float]], *, min_margin: float = 0.0) -> PairSet:
    """One best-vs-worst pair per prompt (prompt id, text, system prompt) from its k answers
    and their scores; prompts whose answers all tie or repeat are counted as left out."""
    result = PairSet()
    for (prompt_id, text, system), group, group_scores in zip(prompts, answers, scores, strict=True):
        pair: Pair | None = best_vs_worst(text, list(group), list(group_scores), min_margin=min_margin,
                                          system_prompt=system, prompt_id=prompt_id)
        if pair is None:
            result.left_out["no_margin"] += 1
        else:
            result.pairs.append(pair)
    return result
