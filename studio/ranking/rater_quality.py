"""One table of how far each rater can be trusted, and the flags that say why not.

Columns (QUALITY_COLUMNS): votes; gold_votes and gold_accuracy (votes on gold items, the
share matching the gold answer); consensus_votes and consensus_agreement (how often the
rater's judgement matches the strict majority of the other raters of the same pair of
outputs, `agreement.rater_table`); model_agreement (the share of decisive votes for the
side the Bradley-Terry model of the other raters favours); anomaly_z and anomaly_p
(`anomaly.anomaly_scores`); left_share and position_p; median_decision_ms; too_fast
(`pace.too_fast_counts`); flagged, and the reasons (comma-separated flag names).

Flags (`QualityRules`):
- anomalous: anomaly_p below (1 - position_share) alpha (votes less predictable than an
  honest rater's);
- one_side: position_p below position_share alpha (the left button far more or less than
  half the time); the two tests share alpha (Bonferroni), and each needs `min_decisive`
  decisive votes. A rater pressing one button gives a tiny position p-value, so the
  position test needs little of alpha (default 0.2 of 0.02);
- too_fast: at least `max_too_fast_share` of the rater's votes too fast (and
  `min_too_fast_votes` of them);
- gold: accuracy below `min_gold_accuracy` on at least `min_gold_votes` gold items.
The anomaly test runs twice: the second pass leaves the raters flagged by the first out of
the model everyone is judged against (contamination by random clickers flattens it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from studio.ranking.agreement import rater_table
from studio.ranking.anomaly import anomaly_scores, left_probability
from studio.ranking.pace import BASE_MS, CHARS_PER_SECOND, too_fast_counts
from studio.ranking.votes import DECISIVE, require_columns

QUALITY_COLUMNS = ["rater", "votes", "gold_votes", "gold_accuracy", "consensus_votes", "consensus_agreement",
                   "model_agreement", "anomaly_z", "anomaly_p", "left_share", "position_p", "median_decision_ms",
                   "too_fast", "flagged", "reasons"]
GOLD_COLUMNS = ("left_generation_id", "right_generation_id", "outcome")
_SWAPPED = {"left": "right", "right": "left", "tie": "tie", "both_bad": "both_bad"}


@dataclass(frozen=True)
class QualityRules:
    alpha: float = 0.02             # shared by the anomaly and the position test ...
    position_share: float = 0.2     # ... this much of it to the position test
    min_decisive: int = 20
    passes: int = 2
    max_too_fast_share: float = 0.5
    min_too_fast_votes: int = 10
    min_gold_votes: int = 5
    min_gold_accuracy: float = 0.6
    base_ms: float = BASE_MS
    chars_per_second: float = CHARS_PER_SECOND


def rater_quality(votes: pd.DataFrame, *, gold: pd.DataFrame | None = None,
                  rules: QualityRules = QualityRules()) -> pd.DataFrame:
    """QUALITY_COLUMNS, one row per rater (sorted). `gold` holds the right answers of gold
    items (GOLD_COLUMNS: the pair of generations and the outcome as seen with that left and
    right); columns the vote frame lacks (generation ids, decision_ms, texts) leave their
    figures missing."""
    require_columns(votes, ("rater", "left_contender", "right_contender", "outcome"), what="the rater table")
    votes = votes.reset_index(drop=True)
    table = pd.DataFrame(index=pd.Index(sorted(votes["rater"].unique()), name="rater"))
    table["votes"] = votes.groupby("rater").size().reindex(table.index, fill_value=0)
    table = table.join(gold_accuracy(votes, gold).set_index("rater"))
    table["gold_votes"] = table["gold_votes"].fillna(0).astype(int)
    table = table.join(_consensus(votes))
    table["consensus_votes"] = table["consensus_votes"].fillna(0).astype(int)
    table["median_decision_ms"] = (pd.to_numeric(votes["decision_ms"], errors="coerce").groupby(votes["rater"]).median()
                                   if "decision_ms" in votes.columns else np.nan)
    table["too_fast"] = _too_fast(votes, rules).reindex(table.index).fillna(0).astype(int)
    excluded: list[str] = []
    for _ in range(max(1, rules.passes)):
        probability = left_probability(votes, exclude=excluded)
        scores = anomaly_scores(votes, exclude=excluded, probability=probability).set_index("rater")
        flags = _flags(table, scores, rules)
        excluded = list(flags.index[flags != ""])
    table["model_agreement"] = _model_agreement(votes, probability).reindex(table.index)
    table = table.join(scores[["anomaly_z", "anomaly_p", "left_share", "position_p"]])
    table["reasons"] = flags
    table["flagged"] = flags != ""
    return table.reset_index()[QUALITY_COLUMNS]


def gold_accuracy(votes: pd.DataFrame, gold: pd.DataFrame | None) -> pd.DataFrame:
    """Per rater with gold votes: gold_votes and gold_accuracy (the vote, turned to the gold
    item's sides, equals its answer)."""
    empty = pd.DataFrame({"rater": pd.Series(dtype=object), "gold_votes": pd.Series(dtype=int),
                          "gold_accuracy": pd.Series(dtype=float)})
    if gold is None or gold.empty:
        return empty
    require_columns(gold, GOLD_COLUMNS, what="gold accuracy")
    require_columns(votes, ("left_generation_id", "right_generation_id"), what="gold accuracy")
    answers = {}
    for left, right, outcome in gold[list(GOLD_COLUMNS)].itertuples(index=False):
        answers[(int(left), int(right))] = outcome
        answers[(int(right), int(left))] = _SWAPPED[outcome]
    keys = zip(votes["left_generation_id"].astype(int), votes["right_generation_id"].astype(int), strict=True)
    answer = pd.Series([answers.get(key) for key in keys], index=votes.index, dtype=object)
    on_gold = answer.notna()
    if not on_gold.any():
        return empty
    right = (votes.loc[on_gold, "outcome"] == answer[on_gold]).groupby(votes.loc[on_gold, "rater"])
    return pd.DataFrame({"gold_votes": right.size(), "gold_accuracy": right.mean()}).rename_axis("rater").reset_index()


def _consensus(votes: pd.DataFrame) -> pd.DataFrame:
    if not {"left_generation_id", "right_generation_id"} <= set(votes.columns):
        return pd.DataFrame({"consensus_votes": pd.Series(dtype=int), "consensus_agreement": pd.Series(dtype=float)})
    agreed = rater_table(votes).set_index("rater")
    return agreed.rename(columns={"majority_votes": "consensus_votes",
                                  "majority_agreement": "consensus_agreement"})[["consensus_votes",
                                                                                  "consensus_agreement"]]


def _too_fast(votes: pd.DataFrame, rules: QualityRules) -> pd.Series:
    readable = "reading_chars" in votes.columns or {"left_text", "right_text"} <= set(votes.columns)
    if "decision_ms" not in votes.columns or not readable:
        return pd.Series(dtype=int)
    return too_fast_counts(votes, base_ms=rules.base_ms, chars_per_second=rules.chars_per_second)


def _model_agreement(votes: pd.DataFrame, probability: np.ndarray) -> pd.Series:
    decisive = votes["outcome"].isin(DECISIVE).to_numpy() & ~np.isnan(probability) & (probability != 0.5)
    favoured = np.where(probability[decisive] > 0.5, "left", "right")
    agrees = pd.Series(favoured == votes.loc[decisive, "outcome"].to_numpy())
    return agrees.groupby(votes.loc[decisive, "rater"].to_numpy()).mean()


def _flags(table: pd.DataFrame, scores: pd.DataFrame, rules: QualityRules) -> pd.Series:
    scores = scores.reindex(table.index)
    enough = scores["decisive"] >= rules.min_decisive
    found = {
        "anomalous": enough & (scores["anomaly_p"] < (1 - rules.position_share) * rules.alpha),
        "one_side": enough & (scores["position_p"] < rules.position_share * rules.alpha),
        "too_fast": (table["too_fast"] >= rules.min_too_fast_votes)
        & (table["too_fast"] >= rules.max_too_fast_share * table["votes"]),
        "gold": (table["gold_votes"] >= rules.min_gold_votes) & (table["gold_accuracy"] < rules.min_gold_accuracy),
    }
    return pd.Series([",".join(name for name, hit in found.items() if hit[rater]) for rater in table.index],
                     index=table.index, dtype=object)
