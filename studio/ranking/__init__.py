"""Rankings and rater analytics: pure functions on vote DataFrames (see `votes.py` for the
columns they read). `Studio` and the UI call them; they never touch the database.

- `bradley_terry`: the leaderboard (maximum likelihood, bootstrap rating and rank intervals,
  all rounds at once; `newton` is the batched maximiser)
- `style_control`: the leaderboard with style covariates (length, markdown) fitted jointly
  (`style` counts them, `style_model` is the likelihood)
- `sampling`: which pair of contenders to show next (active sampling with a uniform floor)
- `anomaly`, `pace`, `rater_quality`: raters against the others' model, too-fast votes,
  gold accuracy, flags
- `elo`: online Elo, a secondary column
- `winrates`: battle counts, win-rate tables, position bias
- `agreement`: percent agreement, Cohen's and Fleiss' kappa, Krippendorff's alpha, per-rater table
- `reward_accuracy`: each reward-model version against the human votes
- `plots`: matplotlib figures of the above
"""

from studio.ranking.agreement import AgreementReport, agreement, rater_table
from studio.ranking.anomaly import anomaly_scores
from studio.ranking.bradley_terry import leaderboard
from studio.ranking.elo import online_elo
from studio.ranking.pace import too_fast, too_fast_counts
from studio.ranking.rater_quality import QualityRules, rater_quality
from studio.ranking.reward_accuracy import reward_model_accuracy
from studio.ranking.sampling import choose_pair, next_pairs, pair_probabilities, uncertain_first
from studio.ranking.style_control import StyleControl, style_leaderboard
from studio.ranking.winrates import battle_counts, position_bias, win_rates

__all__ = ["AgreementReport", "QualityRules", "StyleControl", "agreement", "anomaly_scores", "battle_counts",
           "choose_pair", "leaderboard", "next_pairs", "online_elo", "pair_probabilities", "position_bias",
           "rater_quality", "rater_table", "reward_model_accuracy", "style_leaderboard", "too_fast",
           "too_fast_counts", "uncertain_first", "win_rates"]
