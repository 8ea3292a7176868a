"""How far raters agree with each other, with the majority, and with the reward model.

A *unit* is one pair of outputs (two generation ids, either order). Each rater's last vote
on a unit is their judgement of it, turned to the unit's own orientation (the side order of
the unit's first vote: "first" is the output shown on the left then), so two raters who saw
the sides swapped still agree when they chose the same output. The arena randomises sides
per pair, so "first" is a random contender and the chance term of the kappas is not inflated
by an arbitrary rule (ordering by generation id made "first" nearly always the contender the
pool generated first). Judgements fall in four nominal categories: first, second, tie,
both_bad. Only units judged by two or more raters say anything about agreement.

- Percent agreement S1: over all pairs of distinct raters on the same unit, the share that
  chose the same category (a tie is an outcome like any other).
- S2: the same over the rater pairs where both votes are decisive (first or second).
- Cohen's kappa for each pair of raters, over the units both judged.
- Fleiss' kappa over all units with two or more judgements (units may have different
  numbers of raters: each unit's agreement is averaged, category shares are pooled).
- Krippendorff's alpha, nominal, from the coincidence matrix (missing judgements allowed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from studio.errors import InputError
from studio.ranking.votes import require_columns

CATEGORIES = ("first", "second", "tie", "both_bad")
_CODE = {"left": 0, "right": 1, "tie": 2, "both_bad": 3}
COHEN_COLUMNS = ["rater_a", "rater_b", "shared", "agreement", "kappa"]
RATER_COLUMNS = ["rater", "votes", "median_decision_ms", "majority_votes", "majority_agreement",
                 "reward_model_votes", "reward_model_agreement"]


@dataclass(frozen=True)
class AgreementReport:
    """Agreement figures (NaN where the votes cannot tell, e.g. no unit has two raters)."""

    units: int                          # units judged by two or more raters
    judgements: int                     # judgements on those units
    raters: int                         # raters with at least one judgement on them
    percent_agreement: float            # S1
    percent_agreement_decisive: float   # S2
    fleiss_kappa: float
    krippendorff_alpha: float
    cohen: pd.DataFrame = field(repr=False)       # COHEN_COLUMNS, one row per pair of raters who overlap
    per_rater: pd.DataFrame = field(repr=False)   # RATER_COLUMNS

    def summary(self) -> dict:
        """The scalar figures."""
        return {"units": self.units, "judgements": self.judgements, "raters": self.raters,
                "percent_agreement": self.percent_agreement,
                "percent_agreement_decisive": self.percent_agreement_decisive,
                "fleiss_kappa": self.fleiss_kappa, "krippendorff_alpha": self.krippendorff_alpha}

    def to_dict(self) -> dict:
        """JSON-ready: the scalars, then the tables as lists of records (NaN as None)."""
        return {**{k: _plain(v) for k, v in self.summary().items()},
                "cohen": _records(self.cohen), "per_rater": _records(self.per_rater)}


def judgements(votes: pd.DataFrame) -> pd.DataFrame:
    """One row per (unit, rater): unit (int), rater, category (0..3 as in CATEGORIES),
    plus the vote's `id` when the frame has one. A rater's later vote on a unit replaces
    the earlier one."""
    require_columns(votes, ("left_generation_id", "right_generation_id", "rater", "outcome"), what="agreement")
    left = votes["left_generation_id"].to_numpy(dtype=np.int64)
    right = votes["right_generation_id"].to_numpy(dtype=np.int64)
    seen_codes, seen = pd.factorize(votes["outcome"])
    table = np.array([_CODE.get(value, -1) for value in seen] + [-1])
    code = table[seen_codes]
    if (code < 0).any():
        raise InputError(f"unknown vote outcome {votes['outcome'].iloc[int(np.flatnonzero(code < 0)[0])]!r}: "
                         f"expected one of {', '.join(_CODE)}")
    low, high = np.minimum(left, right), np.maximum(left, right)
    _, unit = np.unique(low * (int(high.max(initial=0)) + 1) + high, return_inverse=True)
    unit = unit.reshape(-1)
    first_vote = pd.Series(np.arange(len(unit))).groupby(unit).transform("min").to_numpy()
    swapped = (left != left[first_vote]) & (code < 2)
    code = np.where(swapped, 1 - code, code)
    frame = pd.DataFrame({"unit": unit, "rater": votes["rater"].to_numpy(dtype=object),
                          "category": code})
    if "id" in votes.columns:
        frame["id"] = votes["id"].to_numpy()
    return frame.drop_duplicates(["unit", "rater"], keep="last").reset_index(drop=True)


def agreement(votes: pd.DataFrame, predictions: pd.DataFrame | None = None) -> AgreementReport:
    """All agreement figures for a vote frame. `predictions` (columns `comparison_id`,
    `prob_left`) are a reward model's, for its column in the per-rater table."""
    judged = judgements(votes)
    shared = judged[judged.groupby("unit")["rater"].transform("size") >= 2]
    counts = _category_counts(shared)
    pairs = _rater_pairs(shared)
    return AgreementReport(
        units=len(counts), judgements=len(shared), raters=int(shared["rater"].nunique()),
        percent_agreement=_pair_agreement(counts), percent_agreement_decisive=_pair_agreement(counts[:, :2]),
        fleiss_kappa=fleiss_kappa(counts), krippendorff_alpha=krippendorff_alpha(counts),
        cohen=cohen_kappas(pairs), per_rater=rater_table(votes, judged, predictions))


def fleiss_kappa(counts: np.ndarray) -> float:
    """Fleiss' kappa from a (units x categories) count matrix, units with >= 2 judgements."""
    counts = np.asarray(counts, dtype=float)
    per_unit = counts.sum(axis=1)
    counts, per_unit = counts[per_unit >= 2], per_unit[per_unit >= 2]
    if not len(counts):
        return math.nan
    observed = ((counts * (counts - 1)).sum(axis=1) / (per_unit * (per_unit - 1))).mean()
    expected = ((counts.sum(axis=0) / per_unit.sum()) ** 2).sum()
    return _chance_corrected(observed, expected)


def krippendorff_alpha(counts: np.ndarray) -> float:
    """Krippendorff's alpha (nominal) from a (units x categories) count matrix."""
    counts = np.asarray(counts, dtype=float)
    per_unit = counts.sum(axis=1)
    counts, per_unit = counts[per_unit >= 2], per_unit[per_unit >= 2]
    total = per_unit.sum()
    if not len(counts):
        return math.nan
    # coincidences within a category: sum over units of n_uc (n_uc - 1) / (n_u - 1)
    matching = (counts * (counts - 1) / (per_unit - 1)[:, None]).sum()
    by_category = counts.sum(axis=0)
    expected_mismatch = total * total - (by_category ** 2).sum()
    if expected_mismatch == 0:
        return math.nan
    return float(1.0 - (total - 1) * (total - matching) / expected_mismatch)


def cohen_kappas(pairs: pd.DataFrame) -> pd.DataFrame:
    """Cohen's kappa for each pair of raters from their paired judgements (columns
    rater_a, rater_b, category_a, category_b: one row per unit both judged)."""
    if pairs.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c.startswith("rater") else float) for c in COHEN_COLUMNS})
    keys = ["rater_a", "rater_b"]
    grouped = pairs.groupby(keys, sort=True)
    shared = grouped.size()
    agree = (pairs["category_a"] == pairs["category_b"]).groupby([pairs[k] for k in keys]).sum()
    shares_a = _category_shares(pairs, keys, "category_a", shared)
    shares_b = _category_shares(pairs, keys, "category_b", shared)
    expected = (shares_a * shares_b).sum(axis=1)
    observed = agree / shared
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(expected < 1, (observed - expected) / (1 - expected), np.nan)
    table = pd.DataFrame({"shared": shared.astype(int), "agreement": observed, "kappa": kappa})
    return table.reset_index()[COHEN_COLUMNS]


def rater_table(votes: pd.DataFrame, judged: pd.DataFrame | None = None,
                predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per rater: votes, median decision time (ms), how often their judgement matches the
    most common judgement of the *other* raters of the same unit (where one category is
    strictly most common among them), and how often their decisive votes match the reward
    model's predicted side (NaN without predictions)."""
    judged = judgements(votes) if judged is None else judged
    require_columns(votes, ("rater",), what="the rater table")
    table = votes.groupby("rater", sort=True).size().rename("votes").to_frame()
    if "decision_ms" in votes.columns:
        table["median_decision_ms"] = pd.to_numeric(votes["decision_ms"], errors="coerce").groupby(
            votes["rater"]).median()
    else:
        table["median_decision_ms"] = np.nan
    majority = _with_majority_of_others(judged)
    table["majority_votes"] = majority.groupby("rater").size().reindex(table.index, fill_value=0)
    table["majority_agreement"] = majority.groupby("rater")["agrees"].mean().reindex(table.index)
    model = _with_reward_model(votes, predictions)
    table["reward_model_votes"] = model.groupby("rater").size().reindex(table.index, fill_value=0)
    table["reward_model_agreement"] = model.groupby("rater")["agrees"].mean().reindex(table.index)
    return table.reset_index()[RATER_COLUMNS]


def _category_counts(judged: pd.DataFrame) -> np.ndarray:
    """(units x categories) judgement counts."""
    if judged.empty:
        return np.zeros((0, len(CATEGORIES)))
    _, unit = np.unique(judged["unit"].to_numpy(), return_inverse=True)
    counts = np.zeros((unit.max() + 1, len(CATEGORIES)))
    np.add.at(counts, (unit, judged["category"].to_numpy()), 1)
    return counts


def _pair_agreement(counts: np.ndarray) -> float:
    """Over all pairs of distinct judgements on the same unit (within the given category
    columns), the share that match."""
    total = counts.sum(axis=1)
    pairs = (total * (total - 1)).sum()
    return float((counts * (counts - 1)).sum() / pairs) if pairs else math.nan


def _rater_pairs(judged: pd.DataFrame) -> pd.DataFrame:
    """Every pair of distinct raters on the same unit, once (rater_a < rater_b)."""
    columns = judged[["unit", "rater", "category"]]
    joined = columns.merge(columns, on="unit", suffixes=("_a", "_b"))
    joined = joined[joined["rater_a"].astype(str) < joined["rater_b"].astype(str)]
    return joined.reset_index(drop=True)


def _category_shares(pairs, keys, column, shared) -> np.ndarray:
    counts = pairs.groupby(keys + [column], sort=True).size().unstack(column, fill_value=0)
    counts = counts.reindex(index=shared.index, columns=range(len(CATEGORIES)), fill_value=0)
    return counts.to_numpy() / shared.to_numpy()[:, None]


def _with_majority_of_others(judged: pd.DataFrame) -> pd.DataFrame:
    """Judgements whose unit's other raters have one strictly most common category, with
    `agrees` saying whether the judgement is that category."""
    if judged.empty:
        return pd.DataFrame({"rater": pd.Series(dtype=object), "agrees": pd.Series(dtype=bool)})
    units, unit = np.unique(judged["unit"].to_numpy(), return_inverse=True)
    category = judged["category"].to_numpy()
    counts = np.zeros((len(units), len(CATEGORIES)))
    np.add.at(counts, (unit, category), 1)
    others = counts[unit]
    others[np.arange(len(others)), category] -= 1
    top = others.max(axis=1)
    unique_top = (others == top[:, None]).sum(axis=1) == 1
    defined = (top > 0) & unique_top
    return pd.DataFrame({"rater": judged["rater"].to_numpy()[defined],
                         "agrees": (others.argmax(axis=1) == category)[defined]})


def _with_reward_model(votes: pd.DataFrame, predictions: pd.DataFrame | None) -> pd.DataFrame:
    """Decisive votes with a prediction (not exactly 0.5), and whether the predicted side won."""
    empty = pd.DataFrame({"rater": pd.Series(dtype=object), "agrees": pd.Series(dtype=bool)})
    if predictions is None or predictions.empty or "id" not in votes.columns:
        return empty
    decisive = votes[votes["outcome"].isin(("left", "right"))][["id", "rater", "outcome"]]
    joined = decisive.merge(predictions[["comparison_id", "prob_left"]], left_on="id", right_on="comparison_id")
    joined = joined[joined["prob_left"] != 0.5]
    predicted = np.where(joined["prob_left"] > 0.5, "left", "right")
    return pd.DataFrame({"rater": joined["rater"].to_numpy(), "agrees": predicted == joined["outcome"].to_numpy()})


def _chance_corrected(observed: float, expected: float) -> float:
    return float((observed - expected) / (1 - expected)) if expected < 1 else math.nan


def _plain(value):
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
