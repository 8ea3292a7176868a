"""The notebook face of `Studio`: an overview, the votes worth a second look, the pairs where
a reward model and the raters part ways, the arena inline, and a readable summary in Jupyter.

    studio = Studio.open("studio-data")    # reading next to a running `studio serve` is safe
    studio                                  # a summary table in Jupyter
    studio.overview()                       # counts per prompt set
    studio.disagreements()                  # pairs the raters split on
    studio.model_disagreements()            # pairs the active reward model sees otherwise
    studio.arena(rater="ana")               # rate a few pairs without leaving the notebook

Everything here reads through `store.reader()` (a plain BEGIN on SQLite: in WAL mode a
reader never blocks the raters' writes, and it sees one consistent snapshot).
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import pandas as pd

from studio.errors import InputError

if TYPE_CHECKING:
    from studio.ui.embed import InlineArena


class NotebookFacade:
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
        split = split_pairs(self.comparisons(prompt_set=prompt_set, source=source), min_raters=min_raters)
        return split if limit is None else split.head(limit)

    def model_disagreements(self, version: int | str = "active", *, prompt_set: str | None = None,
                            source: str | None = None, only_disagreements: bool = True,
                            limit: int | None = 20) -> pd.DataFrame:
        """Rated pairs beside a reward model's view of them: the raters' share of the win for
        A (`a_share`), the model's P(A wins) (`model_a`) and the `gap`, largest first. With
        `only_disagreements` (default), only pairs where the model picks the other side.
        Computed here from the model's rewards for both outputs; nothing is written."""
        from studio.explore import model_vs_raters

        model = self.reward_model(version)
        votes = self.comparisons(prompt_set=prompt_set, source=source)
        has_media = votes["left_media"].notna() | votes["right_media"].notna()
        votes = votes[has_media] if model.kind == "image" else votes[~has_media]
        compared = model_vs_raters(votes, self._rewards_by_generation(model, votes))
        compared.insert(compared.columns.get_loc("gap"), "version", model.version)
        if only_disagreements:
            compared = compared[compared["disagree"]].reset_index(drop=True)
        return compared if limit is None else compared.head(limit)

    def arena(self, rater: str | None = None, *, prompt_set: str | None = None, height: int = 720) -> InlineArena:
        """The arena, served on a loopback port from this process and shown inline when it
        is a cell's result; votes are recorded as `rater` (default: your login name).
        Pairs come from the pool: keep `studio serve` running, or call `refill_pool()`.
        `.close()` stops it."""
        from studio.ui.embed import inline_arena

        return inline_arena(self, rater or _login_name(), prompt_set=prompt_set, height=height)

    # -- Jupyter ---------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        counts = self.stats()
        where = escape(self.store.engine.url.render_as_string(hide_password=True))
        with self.store.reader() as tx:
            active = tx.reward_models.active("text") or tx.reward_models.active("image")
            jobs = tx.jobs.frame(limit=5)
        head = "".join(f"<th>{escape(k.replace('_', ' '))}</th>" for k in counts)
        row = "".join(f"<td>{v:,}</td>" for v in counts.values())
        lines = [f"<b>Feedback Studio</b> <code>{where}</code>",
                 f"<table><tr>{head}</tr><tr>{row}</tr></table>"]
        if active is not None:
            accuracy = active.metrics.get("heldout_accuracy")
            shown = "n/a" if accuracy is None else f"{accuracy:.1%}"
            lines.append(f"Active reward model: <b>v{active.version}</b> ({escape(active.mode)}, "
                         f"{escape(active.backbone)}), held-out accuracy {shown}")
        alive = jobs[jobs["status"].isin(["queued", "running"])] if len(jobs) else jobs
        for job in alive.itertuples():
            lines.append(f"Job {job.id} ({escape(job.kind)}): {escape(job.status)}, {job.progress:.0%} "
                         f"{escape(job.message or '')}")
        return "<br>".join(lines)

    # -- internals -------------------------------------------------------------------------

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
            paths = [str(self.config.data_dir / media) for media in group["media"]]
            found.update(zip(group["generation_id"].tolist(), model.score_images(prompt, paths), strict=True))
        return found


def _login_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError) as exc:
        raise InputError("cannot tell who you are: name the rater, e.g. studio.arena(rater='ana')") from exc
