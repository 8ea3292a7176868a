"""Which contender pairs the pool makes next (`[pool] sampling`).

- "uniform": every pair in turn, the least shown first (`generation.pool.plan_items`).
- "active" (the default): once there are `[pool] active_min_votes` counted votes, the pairs
  where one more vote narrows the leaderboard's 95% intervals most (`ranking.sampling`:
  the Arena's rule, sharpened), with a share `[pool] sampling_floor` of uniform draws so no
  pair is starved. Before that many votes the intervals say little, so it stays uniform.

The pool asks for a batch of items at a time. Drawing them all from the same probabilities
would fill a batch with the one best pair, so each draw counts the pairs drawn before it as
votes already on their way (their interval reductions shrink), and the batch spreads over
the pairs that teach most.

Among candidate items of one contender pair (combinations of stored outputs that no item
shows yet) `candidate_order` puts first those the active text reward model is least sure
about: the standard deviation over its ensemble's members of P(left wins)
(`ranking.sampling.uncertain_first`), not the prediction itself. Only a version past the
activation gate trained with `ensemble=N` (N >= 2) steers; otherwise, or when scoring fails
(logged), the candidates keep the pool's coverage order. Spreads are kept per version and
generation pair, so each candidate is scored once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.config import StudioConfig
from studio.generation.pool import PlannedItem, plan_items
from studio.store import Store

log = logging.getLogger(__name__)
SPREADS_KEPT = 20_000     # cached (version, left, right) spreads before the cache starts over


@dataclass(frozen=True)
class SamplerStatus:
    sampler: str          # "active" or "uniform": what the pool uses now
    configured: str       # [pool] sampling
    votes: int            # counted votes between the pool's text contenders
    reason: str

    def to_dict(self) -> dict:
        return {"sampler": self.sampler, "configured": self.configured, "votes": self.votes, "reason": self.reason}


class PairChooser:
    def __init__(self, store: Store, config: StudioConfig, registry: Any = None):
        self.store = store
        self.config = config
        self.registry = registry          # a RewardRegistry: its gated text ensemble orders candidates
        self._spreads: dict[tuple[int, int, int], float] = {}

    def status(self, contender_ids: Sequence[int] | None = None) -> SamplerStatus:
        """Which sampler runs now and why (for `studio stats` and the Settings tab)."""
        pool = self.config.pool
        votes = self._counted(contender_ids)[1].sum() / 2
        candidates = self._spread_reason()
        if pool.sampling == "uniform":
            return SamplerStatus("uniform", "uniform", int(votes), f"[pool] sampling = \"uniform\"; {candidates}")
        if votes < pool.active_min_votes:
            return SamplerStatus("uniform", "active", int(votes),
                                 f"{int(votes)} counted votes between the contenders; active sampling starts at "
                                 f"[pool] active_min_votes = {pool.active_min_votes}; {candidates}")
        return SamplerStatus("active", "active", int(votes),
                             f"{int(votes)} counted votes: pairs that narrow the rating intervals most, "
                             f"{pool.sampling_floor:.0%} uniform floor; {candidates}")

    # -- candidates of one contender pair --------------------------------------------------

    def spread_model(self):
        """(the gated active text reward model with an ensemble, "") or (None, why not)."""
        if self.registry is None:
            return None, "no reward-model registry"
        record = self.registry.active_record("text")
        if record is None:
            return None, "no active text reward model"
        model, why = self.registry.steering_model(record.version)
        if model is None:
            return None, why
        if (model.spec.ensemble or 0) < 2:
            return None, f"reward model v{record.version} has no ensemble (train with ensemble=5)"
        return model, ""

    def candidate_order(self):
        """The pool's `fill_items(order=...)`: a callable ranking one pair's candidate
        generation pairs by the ensemble's spread (least certain first), or None (coverage
        order) without a model that has one."""
        try:
            model, _ = self.spread_model()
        except Exception:  # the pool must go on without the spread
            log.exception("reward-model spread unavailable; candidates keep their coverage order")
            return None
        if model is None:
            return None

        def order(prompt_id: int, candidates: list[tuple[int, int]]) -> list[int]:
            from studio.ranking.sampling import uncertain_first

            try:
                spreads = self._candidate_spreads(model, prompt_id, candidates)
            except Exception:
                log.exception("scoring candidates of prompt %s failed; coverage order kept", prompt_id)
                return list(range(len(candidates)))
            return [int(i) for i in uncertain_first(spreads, rng=[self.config.pool.seed, prompt_id])]

        return order

    def _candidate_spreads(self, model, prompt_id: int, candidates: list[tuple[int, int]]) -> list[float]:
        from studio.rewards.data import Item, content_key

        missing = [c for c in candidates if (model.version, *c) not in self._spreads]
        if missing:
            with self.store.reader() as tx:
                prompt = tx.prompts.get(prompt_id).text
                outputs = tx.generations.many([g for pair in missing for g in pair])
            items = {g: Item(key=content_key(prompt, o.content_sha256), prompt=prompt, text=o.text or "")
                     for g, o in outputs.items()}
            if len(self._spreads) > SPREADS_KEPT:
                self._spreads.clear()
            for left, right in missing:
                spread = model.prob_first_wins_with_spread(items[left], items[right])[1]
                self._spreads[(model.version, left, right)] = float("nan") if spread is None else spread
        return [self._spreads[(model.version, *c)] for c in candidates]

    def _spread_reason(self) -> str:
        try:
            model, why = self.spread_model()
        except Exception as exc:
            return f"no reward-model spread ({type(exc).__name__}: {exc}); candidates of a pair in coverage order"
        if model is None:
            return f"no reward-model spread ({why}); candidates of a pair in coverage order"
        return (f"candidates of a pair ordered by reward model v{model.version}'s ensemble spread "
                f"({model.spec.ensemble} members), least certain first")

    def plan(self, prompt_ids: Sequence[int], *, text_contenders: Sequence[int], image_contenders: Sequence[int],
             pairs_used: dict[int, Counter], rotation: int) -> list[PlannedItem]:
        """One planned item per prompt (as `plan_items`), the pairs' contenders chosen by the
        sampler in effect."""
        planned = plan_items(prompt_ids, text_contenders=text_contenders, image_contenders=image_contenders,
                             pairs_used=pairs_used, rotation=rotation)
        pair_slots = [i for i, p in enumerate(planned) if p.shape == "pair"]
        if not pair_slots or len(text_contenders) < 3:
            return planned           # two contenders: one pair, nothing to choose
        ids = sorted(text_contenders)
        theta, counts = self._fit(ids)
        if theta is None:
            return planned
        rng = np.random.default_rng([self.config.pool.seed, rotation, len(prompt_ids)])
        for slot, (first, second) in zip(pair_slots, self.draw(theta, counts, len(pair_slots), rng), strict=True):
            planned[slot] = PlannedItem(planned[slot].prompt_id, (ids[first], ids[second]))
        return planned

    def draw(self, theta: np.ndarray, counts: np.ndarray, n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
        """`n` pairs (contender positions) drawn one after another, each counting the ones
        before it as votes to come."""
        from studio.ranking.sampling import pair_probabilities

        counts = counts.copy()
        first, second = np.triu_indices(len(theta), k=1)
        chosen = []
        for _ in range(n):
            probabilities = pair_probabilities(theta, counts, floor=self.config.pool.sampling_floor)
            pick = rng.choice(len(first), p=probabilities / probabilities.sum())
            i, j = int(first[pick]), int(second[pick])
            counts[i, j] += 1
            counts[j, i] += 1
            chosen.append((i, j))
        return chosen

    def _fit(self, ids: list[int]) -> tuple[np.ndarray | None, np.ndarray]:
        """Strengths and votes per pair of these contenders, or (None, counts) while the
        uniform sampler is in effect."""
        from studio.ranking.sampling import strengths

        wins, counts = self._counted(ids)
        pool = self.config.pool
        if pool.sampling == "uniform" or counts.sum() / 2 < pool.active_min_votes:
            return None, counts
        return strengths(wins, counts), counts

    def _counted(self, contender_ids: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
        from studio.ranking.sampling import pair_tallies

        with self.store.reader() as tx:
            votes = tx.rankings.votes()
            names = {c.id: c.name for c in tx.contenders.list(kind="text", enabled_only=True)}
        ids = sorted(names) if contender_ids is None else sorted(contender_ids)
        return pair_tallies(votes, [names.get(i, f"#{i}") for i in ids])
