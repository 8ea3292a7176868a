"""Views for a second look at the votes: an overview per prompt set, the pairs raters split
on, and the pairs where a reward model and the raters part ways. Reads only (a reader
transaction: in WAL mode it never blocks the raters' writes)."""

from __future__ import annotations

import pandas as pd

from studio.errors import InputError
from studio.services.catalog import Catalog
from studio.services.registry import RewardRegistry
from studio.store import Store
from studio.store.frames import ComparisonFilter


class Insights:
    def __init__(self, store: Store, catalog: Catalog, registry: RewardRegistry):
        self.store = store
        self.catalog = catalog
        self.registry = registry

    def overview(self) -> pd.DataFrame:
        """Counts per prompt set, then `(all)`: prompts, generations, rating_items,
        open_items (still wanting votes), votes, raters (who voted), first_vote, last_vote."""
        with self.store.reader() as tx:
            return tx.overview.by_prompt_set()

    def disagreements(self, *, min_raters: int = 2, prompt_set: str | None = None, source: str | None = None,
                      limit: int | None = 20) -> pd.DataFrame:
        """Pairs of outputs judged by at least `min_raters` raters who did not all agree,
        least agreement first: the prompt, both outputs and contenders (A is the output with
        the lower generation id), each verdict's count, `agreement` and who said what."""
        from studio.explore import split_pairs

        if min_raters < 2:
            raise InputError(f"a disagreement needs at least 2 raters, got min_raters={min_raters}")
        split = split_pairs(self._votes(prompt_set, source), min_raters=min_raters)
        return split if limit is None else split.head(limit)

    def model_disagreements(self, version: int | str = "active", *, prompt_set: str | None = None,
                            source: str | None = None, only_disagreements: bool = True,
                            limit: int | None = 20) -> pd.DataFrame:
        """Rated pairs beside a reward model's view of them: the raters' share of the win for
        A (`a_share`), the model's P(A wins) (`model_a`) and the `gap`, largest first. With
        `only_disagreements` (default), only pairs where the model picks the other side.
        Computed here from the model's rewards for both outputs; nothing is written."""
        from studio.explore import model_vs_raters

        model = self.registry.load(version)
        votes = self._votes(prompt_set, source)
        has_media = votes["left_media"].notna() | votes["right_media"].notna()
        votes = votes[has_media] if model.kind == "image" else votes[~has_media]
        compared = model_vs_raters(votes, self._rewards_by_generation(model, votes))
        compared.insert(compared.columns.get_loc("gap"), "version", model.version)
        if only_disagreements:
            compared = compared[compared["disagree"]].reset_index(drop=True)
        return compared if limit is None else compared.head(limit)

    # -- internals -------------------------------------------------------------------------

    def _votes(self, prompt_set: str | None, source: str | None) -> pd.DataFrame:
        return self.catalog.comparisons(ComparisonFilter(prompt_set=prompt_set, source=source))

    def _rewards_by_generation(self, model, votes: pd.DataFrame) -> dict[int, float]:
        """The model's reward for every output in `votes`, each scored once."""
        sides = pd.concat([
            votes[["prompt", f"{side}_generation_id", f"{side}_text", f"{side}_media"]]
            .set_axis(["prompt", "generation_id", "text", "media"], axis=1) for side in ("left", "right")])
        sides = sides.drop_duplicates("generation_id")
        if sides.empty:
            return {}
        if model.kind == "text":
            rewards = model.score_batch(sides["prompt"].tolist(), sides["text"].fillna("").tolist())
            return dict(zip(sides["generation_id"].tolist(), rewards, strict=True))
        found: dict[int, float] = {}
        for prompt, group in sides.groupby("prompt", sort=False):
            paths = [self.registry.media_file(media) for media in group["media"]]
            found.update(zip(group["generation_id"].tolist(), model.score_images(prompt, paths), strict=True))
        return found
