"""The lift of improved versions: human win rate against the parent, beside the active
reward model's predicted win rate on the same votes' outputs (`ranking.lift` does the math).

    lift.table()                 # every improved version
    lift.table("smol")           # the versions of one family (or one version by its name)
"""

from __future__ import annotations

import math

import pandas as pd

from studio.errors import NotFoundError, StudioError
from studio.ranking.lift import MIN_VOTES, Version, lift_row, lift_table, predicted_win_rate
from studio.services.registry import RewardRegistry
from studio.store import Store


class LiftService:
    def __init__(self, store: Store, registry: RewardRegistry):
        self.store = store
        self.registry = registry

    def table(self, contender: str | None = None, *, min_votes: int = MIN_VOTES, predict: bool = True) -> pd.DataFrame:
        """One row per improved version (of `contender`'s family, or that version alone)."""
        from studio.policy.lineage import family_of

        with self.store.reader() as tx:
            records = tx.contenders.list()
            names = {c.id: c.name for c in records}
            if contender is not None and contender not in names.values():
                raise NotFoundError(f"no contender named {contender!r}: see `studio contenders list`")
            versions = [Version(c.name, c.id, names.get(c.parent_id, "?"), c.parent_id,
                                (c.lineage or {}).get("method"), c.enabled)
                        for c in records if c.parent_id is not None
                        and (contender is None or c.name == contender or family_of(c.name) == contender)]
            votes = {v.name: tx.improvement.votes_between(v.id, v.parent_id) for v in versions}
        model = self._reward_model() if predict else None
        rows = []
        for version in versions:
            predicted = self._predicted(model, votes[version.name], version.id) if model else None
            rows.append(lift_row(version, votes[version.name], min_votes=min_votes, predicted=predicted))
        return lift_table(rows)

    def _reward_model(self):
        if self.registry.active_record("text") is None:
            return None
        try:
            return self.registry.load(self.registry.active_record("text").version)
        except StudioError:
            return None

    @staticmethod
    def _predicted(model, votes, version_id: int):
        usable = [v for v in votes if v["left_text"] is not None and v["right_text"] is not None]
        if not usable:
            return None
        prompts = [v["prompt"] for v in usable]
        left = model.score_batch(prompts, [v["left_text"] for v in usable])
        right = model.score_batch(prompts, [v["right_text"] for v in usable])
        prob_left = [1.0 / (1.0 + math.exp(-(a - b))) for a, b in zip(left, right, strict=True)]
        return predicted_win_rate(usable, version_id, prob_left)
