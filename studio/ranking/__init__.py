"""Rankings and rater analytics: pure functions on vote DataFrames (see `votes.py` for the
columns they read). `Studio` and the UI call them; they never touch the database.

- `bradley_terry`: the leaderboard (maximum likelihood, bootstrap intervals, all rounds at once)
- `elo`: online Elo, a secondary column
- `winrates`: battle counts, win-rate tables, position bias
- `agreement`: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha, per-rater table
- `reward_accuracy`: each reward-model version against the human votes
- `plots`: matplotlib figures of the above
"""

from studio.ranking.agreement import AgreementReport, agreement, rater_table
from studio.ranking.bradley_terry import leaderboard
from studio.ranking.elo import online_elo
from studio.ranking.reward_accuracy import reward_model_accuracy
from studio.ranking.winrates import battle_counts, position_bias, win_rates

__all__ = ["AgreementReport", "agreement", "battle_counts", "leaderboard", "online_elo", "position_bias",
           "rater_table", "reward_model_accuracy", "win_rates"]
