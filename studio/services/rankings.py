"""Rankings and rater analytics: read the votes (one lean query, no texts), call the pure
functions in `studio.ranking`, return DataFrames, reports and matplotlib figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pandas as pd

from studio.store import Store

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from studio.ranking.agreement import AgreementReport
    from studio.ranking.style_control import StyleControl


class Rankings:
    def __init__(self, store: Store):
        self.store = store

    def leaderboard(self, *, bootstrap: int = 1000, seed: int = 0, prompt_set: str | None = None,
                    source: str | None = None) -> pd.DataFrame:
        """Bradley-Terry leaderboard, best first: contender, score (sums to 1), rating
        (400*log10 scale, mean 1000), ci_low/ci_high (95% bootstrap interval of the rating
        over `bootstrap` resamplings of the votes, seeded), votes, rank, and the online Elo
        rating as a secondary column. Ties count half a win to each side."""
        from studio.ranking import leaderboard, online_elo

        votes = self.ranking_votes(prompt_set=prompt_set, source=source)
        board = leaderboard(votes, bootstrap=bootstrap, seed=seed)
        board["elo"] = board["contender"].map(online_elo(votes)).astype(float)
        return board

    def style_leaderboard(self, *, bootstrap: int = 1000, seed: int = 0, prompt_set: str | None = None,
                          source: str | None = None) -> StyleControl:
        """Bradley-Terry with style covariates (differences in length, headers, list items and
        bold between the two answers): `.board` the style-controlled ratings with intervals
        and rank intervals, the plain ones beside (raw_*), `.coefficients` each covariate's
        effect with its interval. Answers without text (images, text-less imports) count zeros."""
        from studio.ranking import style_leaderboard

        votes = self.ranking_votes(prompt_set=prompt_set, source=source)
        with self.store.reader() as tx:
            texts = tx.rankings.texts(pd.concat([votes["left_generation_id"], votes["right_generation_id"]]))
        votes["left_text"] = votes["left_generation_id"].map(texts)
        votes["right_text"] = votes["right_generation_id"].map(texts)
        return style_leaderboard(votes, bootstrap=bootstrap, seed=seed)

    def win_rates(self, *, ties: Literal["half", "exclude"] = "half", prompt_set: str | None = None,
                  source: str | None = None) -> pd.DataFrame:
        """Square table: the row contender's share of wins against the column contender
        (best contender first; NaN where two never met)."""
        from studio.ranking import win_rates

        votes = self.ranking_votes(prompt_set=prompt_set, source=source)
        return win_rates(votes, ties=ties, order=_best_first(votes))

    def battle_counts(self, *, prompt_set: str | None = None, source: str | None = None) -> pd.DataFrame:
        """Square table: how many votes compared each two contenders (best first)."""
        from studio.ranking import battle_counts

        votes = self.ranking_votes(prompt_set=prompt_set, source=source)
        return battle_counts(votes, order=_best_first(votes))

    def position_bias(self, *, prompt_set: str | None = None, source: str | None = None) -> dict:
        """Share of decisive votes won by the left side (`left_share`), its 95% Wilson
        interval (`ci_low`, `ci_high`), `n` decisive votes, `ties` and a binomial `p_value`
        against 50%."""
        from studio.ranking import position_bias

        return position_bias(self.ranking_votes(prompt_set=prompt_set, source=source))

    def agreement(self, *, prompt_set: str | None = None, source: str | None = None) -> AgreementReport:
        """Inter-rater agreement: S1/S2 percent agreement, Cohen's kappa per rater pair,
        Fleiss' kappa, Krippendorff's alpha, and the per-rater table."""
        from studio.ranking import agreement

        votes = self.ranking_votes(prompt_set=prompt_set, source=source)
        with self.store.reader() as tx:
            predictions = tx.rankings.active_predictions()
        return agreement(votes, predictions)

    def rater_stats(self, *, prompt_set: str | None = None, source: str | None = None) -> pd.DataFrame:
        """Per rater: votes, median decision time (ms), agreement with the majority of the
        other raters, agreement with the active reward model (NaN without predictions)."""
        from studio.ranking import rater_table

        votes = self.ranking_votes(prompt_set=prompt_set, source=source)
        with self.store.reader() as tx:
            predictions = tx.rankings.active_predictions()
        return rater_table(votes, predictions=predictions)

    def reward_model_accuracy(self) -> pd.DataFrame:
        """Per reward-model version: heldout_accuracy (recorded at training), active,
        created_at, and its accuracy on the human votes it predicted (empty: no model yet)."""
        from studio.ranking import reward_model_accuracy

        with self.store.reader() as tx:
            models = tx.rankings.reward_models()
            predictions = tx.rankings.prediction_accuracy()
        return reward_model_accuracy(models, predictions)

    def ranking_votes(self, *, prompt_set: str | None = None, source: str | None = None) -> pd.DataFrame:
        """Votes without texts, as the ranking functions read them (fast on 100k+ votes)."""
        with self.store.reader() as tx:
            return tx.rankings.votes(prompt_set=prompt_set, source=source)

    # -- plots -----------------------------------------------------------------------------

    def plot_leaderboard(self, board: pd.DataFrame | None = None, *, bootstrap: int = 1000, seed: int = 0,
                         prompt_set: str | None = None, source: str | None = None) -> Figure:
        """Ratings with their intervals, best on top; pass a `leaderboard()` frame already
        computed to draw it without reading and fitting again."""
        from studio.ranking.plots import plot_leaderboard

        if board is None:
            board = self.leaderboard(bootstrap=bootstrap, seed=seed, prompt_set=prompt_set, source=source)
        return plot_leaderboard(board)

    def plot_win_rates(self, rates: pd.DataFrame | None = None, *, ties: Literal["half", "exclude"] = "half",
                       prompt_set: str | None = None, source: str | None = None) -> Figure:
        """Heatmap of `win_rates()` (or of the table given)."""
        from studio.ranking.plots import plot_win_rates

        if rates is None:
            rates = self.win_rates(ties=ties, prompt_set=prompt_set, source=source)
        return plot_win_rates(rates)

    def plot_reward_model_accuracy(self) -> Figure:
        from studio.ranking.plots import plot_reward_model_accuracy

        return plot_reward_model_accuracy(self.reward_model_accuracy())


def _best_first(votes: pd.DataFrame) -> list[str]:
    from studio.ranking import leaderboard

    return leaderboard(votes, bootstrap=0)["contender"].tolist()
