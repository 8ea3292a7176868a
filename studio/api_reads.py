"""What the studio tells you: the read side of the `Studio` facade (votes and generations as
DataFrames, leaderboards, rater and agreement tables, their plots, the notebook summary).

Each method hands the call to the service that answers it; nothing here writes. `Studio`
inherits these, so notebooks keep `studio.comparisons()`, `studio.leaderboard()`, ...
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Literal

import pandas as pd

from studio.store.frames import ComparisonFilter

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from studio.ranking.agreement import AgreementReport
    from studio.services.catalog import Catalog
    from studio.services.insights import Insights
    from studio.services.jobs import JobBoard
    from studio.services.rankings import Rankings
    from studio.services.raters import RaterReview
    from studio.services.registry import RewardRegistry
    from studio.store import Store


class StudioReads:
    """The read-only half of `Studio`; the services come from `Studio.__init__`."""

    store: Store
    catalog: Catalog
    insights: Insights
    rankings: Rankings
    rater_review: RaterReview
    registry: RewardRegistry
    job_board: JobBoard

    # -- reading ---------------------------------------------------------------------------

    def comparisons(self, *, prompt_set: str | None = None, contender: str | None = None,
                    rater: str | None = None, source: str | None = None, since=None, until=None,
                    limit: int | None = None, newest_first: bool = False,
                    with_content: bool = True, include_superseded: bool = False,
                    include_excluded: bool = False, outcome: str | None = None) -> pd.DataFrame:
        """Votes as a DataFrame, one row per comparison, oldest first (`outcome`: only left,
        right, tie or both_bad votes). `include_superseded`
        adds the votes that do not count (a rater's second vote on an item, from before
        one vote per item was enforced), with a `superseded_by` column naming the one that does;
        `include_excluded` the votes of raters or sessions an admin excluded (`excluded` column)."""
        filters = ComparisonFilter(prompt_set=prompt_set, contender=contender, rater=rater, source=source,
                                   since=_time(since), until=_time(until), limit=limit,
                                   newest_first=newest_first, include_superseded=include_superseded,
                                   include_excluded=include_excluded, outcome=outcome)
        return self.catalog.comparisons(filters, with_content=with_content)

    def best_of_n_lengths(self) -> pd.DataFrame:
        """The length guard: per best-of-n contender, the mean length of the outputs it kept
        against its base's on the same prompts (ratio well above 1: it may be picking length)."""
        from studio.services.length_guard import best_of_n_lengths

        return best_of_n_lengths(self.store)

    def generations(self, *, contender: str | None = None, prompt_set: str | None = None,
                    limit: int | None = None) -> pd.DataFrame:
        return self.catalog.generations(contender=contender, prompt_set=prompt_set, limit=limit)

    def contenders(self) -> pd.DataFrame:
        return self.catalog.contenders()

    def stats(self) -> dict[str, int]:
        """How many of each thing the studio holds."""
        return self.catalog.stats()

    def overview(self) -> pd.DataFrame:
        """Counts per prompt set, then `(all)`: prompts, generations, rating_items,
        open_items (still wanting votes), votes, raters (who voted), first_vote, last_vote."""
        return self.insights.overview()

    def disagreements(self, *, min_raters: int = 2, prompt_set: str | None = None, source: str | None = None,
                      limit: int | None = 20) -> pd.DataFrame:
        """Pairs of outputs judged by at least `min_raters` raters who did not all agree,
        least agreement first: the prompt, both outputs and contenders (A is the output with
        the lower generation id), each verdict's count, `agreement` and who said what."""
        return self.insights.disagreements(min_raters=min_raters, prompt_set=prompt_set, source=source,
                                           limit=limit)

    def model_disagreements(self, version: int | str = "active", *, prompt_set: str | None = None,
                            source: str | None = None, only_disagreements: bool = True,
                            limit: int | None = 20) -> pd.DataFrame:
        """Rated pairs beside a reward model's view of them: the raters' share of the win for
        A (`a_share`), the model's P(A wins) (`model_a`) and the `gap`, largest first. With
        `only_disagreements` (default), only pairs where the model picks the other side.
        Computed here from the model's rewards for both outputs; nothing is written."""
        return self.insights.model_disagreements(version, prompt_set=prompt_set, source=source,
                                                 only_disagreements=only_disagreements, limit=limit)

    # -- rankings --------------------------------------------------------------------------

    def leaderboard(self, *, bootstrap: int = 1000, seed: int = 0, prompt_set: str | None = None,
                    source: str | None = None, style_control: bool = False) -> pd.DataFrame:
        """Bradley-Terry leaderboard, best first: contender, score (sums to 1), rating
        (400*log10 scale, mean 1000), ci_low/ci_high (95% bootstrap interval of the rating
        over `bootstrap` resamplings of the votes, seeded), votes, rank with rank_low/rank_high
        (ranks 2 to 4), and the online Elo rating as a secondary column. Ties count half a
        win to each side. `style_control`: the ratings with length and markdown (headers,
        lists, bold) held equal, the plain ones beside (raw_*), the covariates'
        coefficients in `board.attrs["coefficients"]` (see `style_leaderboard`)."""
        if style_control:
            fitted = self.rankings.style_leaderboard(bootstrap=bootstrap, seed=seed, prompt_set=prompt_set,
                                                     source=source)
            fitted.board.attrs["coefficients"] = fitted.coefficients
            return fitted.board
        return self.rankings.leaderboard(bootstrap=bootstrap, seed=seed, prompt_set=prompt_set, source=source)

    def style_leaderboard(self, *, bootstrap: int = 1000, seed: int = 0, prompt_set: str | None = None,
                          source: str | None = None):
        """Style control: `.board` (ratings with intervals, raw_* beside) and `.coefficients`."""
        return self.rankings.style_leaderboard(bootstrap=bootstrap, seed=seed, prompt_set=prompt_set, source=source)

    # -- raters -----------------------------------------------------------------------------

    def raters(self) -> pd.DataFrame:
        """One row per rater: votes, excluded (and excluded sessions), gold accuracy,
        agreement with the consensus, anomaly p-value, median decision time, too-fast votes,
        flagged and the reasons. Excluded raters' votes are judged too."""
        return self.rater_review.raters()

    # -- the ranking tables and their plots -------------------------------------------------

    def win_rates(self, *, ties: Literal["half", "exclude"] = "half", prompt_set: str | None = None,
                  source: str | None = None) -> pd.DataFrame:
        """Square table: the row contender's share of wins against the column contender
        (best contender first; NaN where two never met)."""
        return self.rankings.win_rates(ties=ties, prompt_set=prompt_set, source=source)

    def battle_counts(self, *, prompt_set: str | None = None, source: str | None = None) -> pd.DataFrame:
        """Square table: how many votes compared each two contenders (best first)."""
        return self.rankings.battle_counts(prompt_set=prompt_set, source=source)

    def position_bias(self, *, prompt_set: str | None = None, source: str | None = None) -> dict:
        """Share of decisive votes won by the left side (`left_share`), its 95% Wilson
        interval (`ci_low`, `ci_high`), `n` decisive votes, `ties` and a binomial `p_value`
        against 50%."""
        return self.rankings.position_bias(prompt_set=prompt_set, source=source)

    def agreement(self, *, prompt_set: str | None = None, source: str | None = None) -> AgreementReport:
        """Inter-rater agreement: S1/S2 percent agreement, Cohen's kappa per rater pair,
        Fleiss' kappa, Krippendorff's alpha, and the per-rater table."""
        return self.rankings.agreement(prompt_set=prompt_set, source=source)

    def rater_stats(self, *, prompt_set: str | None = None, source: str | None = None) -> pd.DataFrame:
        """Per rater: votes, median decision time (ms), agreement with the majority of the
        other raters, agreement with the active reward model (NaN without predictions)."""
        return self.rankings.rater_stats(prompt_set=prompt_set, source=source)

    def reward_model_accuracy(self) -> pd.DataFrame:
        """Per reward-model version: heldout_accuracy (recorded at training), active,
        created_at, and its accuracy on the human votes it predicted (empty: no model yet)."""
        return self.rankings.reward_model_accuracy()

    def ranking_votes(self, *, prompt_set: str | None = None, source: str | None = None) -> pd.DataFrame:
        """Votes without texts, as the ranking functions read them (fast on 100k+ votes)."""
        return self.rankings.ranking_votes(prompt_set=prompt_set, source=source)

    def plot_leaderboard(self, board: pd.DataFrame | None = None, *, bootstrap: int = 1000, seed: int = 0,
                         prompt_set: str | None = None, source: str | None = None) -> Figure:
        """Ratings with their intervals, best on top; pass a `leaderboard()` frame already
        computed to draw it without reading and fitting again."""
        return self.rankings.plot_leaderboard(board, bootstrap=bootstrap, seed=seed, prompt_set=prompt_set,
                                              source=source)

    def plot_win_rates(self, rates: pd.DataFrame | None = None, *, ties: Literal["half", "exclude"] = "half",
                       prompt_set: str | None = None, source: str | None = None) -> Figure:
        """Heatmap of `win_rates()` (or of the table given)."""
        return self.rankings.plot_win_rates(rates, ties=ties, prompt_set=prompt_set, source=source)

    def plot_reward_model_accuracy(self) -> Figure:
        return self.rankings.plot_reward_model_accuracy()

    def jobs(self, *, limit: int | None = None, kind: str | None = None) -> pd.DataFrame:
        """Background jobs, newest first: status, progress (0..1), step, total_steps, eta_s,
        message, error, result."""
        return self.job_board.frame(limit=limit, kind=kind)

    # -- shown in a notebook ---------------------------------------------------------------

    def _repr_html_(self) -> str:
        counts = self.stats()
        where = escape(self.store.engine.url.render_as_string(hide_password=True))
        active = self.registry.active_record("text") or self.registry.active_record("image")
        jobs = self.jobs(limit=5)
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


def _time(value):
    if value is None or hasattr(value, "tzinfo"):
        return value
    return pd.Timestamp(value).to_pydatetime()
