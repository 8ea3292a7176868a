"""Views for exploring votes in a notebook: pure functions on `Studio.comparisons()` frames.

- `pair_verdicts`: one row per pair of outputs judged by several raters, with how they split.
- `split_pairs`: the pairs raters disagree on, least agreement first ("worth a second look").
- `model_vs_raters`: each pair's human verdict beside a reward model's, largest gap first.

A *pair* is two generations in either order; it is oriented so that output A is the one
with the lower generation id (so raters who saw the sides swapped still count together),
and each rater's last vote on it is their verdict: A, B, tie or both bad.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from studio.ranking.votes import require_columns

VERDICTS = ("A", "B", "tie", "both bad")
_VERDICT = {"left": "A", "right": "B", "tie": "tie", "both_bad": "both bad"}
_NEEDED = ("left_generation_id", "right_generation_id", "left_contender", "right_contender", "outcome", "rater")
_CONTENT = ("prompt", "left_text", "right_text")


def pair_verdicts(votes: pd.DataFrame) -> pd.DataFrame:
    """One row per pair: prompt, A and B (contender, output, generation id), how many
    raters judged it, the count of each verdict, `agreement` (share of raters on the most
    common verdict), `a_share` (A's share of the win: ties half, "both bad" left out; NaN
    when every verdict is "both bad"), and `verdicts` ("ana: A · ben: tie")."""
    require_columns(votes, _NEEDED, what="pair verdicts")
    if votes.empty:
        return _empty_verdicts()
    frame = votes.copy()
    swapped = frame["left_generation_id"] > frame["right_generation_id"]
    for a, b in (("left_generation_id", "right_generation_id"), ("left_contender", "right_contender"),
                 *((("left_text", "right_text"),) if "left_text" in frame else ())):
        frame.loc[swapped, [a, b]] = frame.loc[swapped, [b, a]].to_numpy()
    outcome = frame["outcome"].where(~swapped, frame["outcome"].map({"left": "right", "right": "left"})
                                     .fillna(frame["outcome"]))
    frame["verdict"] = outcome.map(_VERDICT)
    order = frame["id"] if "id" in frame else pd.Series(np.arange(len(frame)), index=frame.index)
    frame = frame.assign(_order=order).sort_values("_order")
    last = frame.drop_duplicates(["left_generation_id", "right_generation_id", "rater"], keep="last")
    keys = ["left_generation_id", "right_generation_id"]
    counts = pd.crosstab([last[k] for k in keys], last["verdict"]).reindex(columns=list(VERDICTS), fill_value=0)
    first = last.groupby(keys, sort=False).first()
    summary = pd.DataFrame({
        "prompt": first["prompt"] if "prompt" in first else None,
        "contender_a": first["left_contender"], "contender_b": first["right_contender"],
        "output_a": first["left_text"] if "left_text" in first else None,
        "output_b": first["right_text"] if "right_text" in first else None,
    }).join(counts)
    summary["raters"] = counts.sum(axis=1)
    summary["agreement"] = counts.max(axis=1) / summary["raters"]
    judged = summary["A"] + summary["B"] + summary["tie"]
    summary["a_share"] = ((summary["A"] + 0.5 * summary["tie"]) / judged.where(judged > 0)).astype(float)
    said = last.assign(said=last["rater"].astype(str) + ": " + last["verdict"])
    summary["verdicts"] = said.groupby(keys, sort=False)["said"].agg(" · ".join)
    summary = summary.reset_index().rename(columns={"left_generation_id": "generation_a",
                                                    "right_generation_id": "generation_b"})
    summary = summary.rename(columns={"A": "a_wins", "B": "b_wins", "tie": "ties", "both bad": "both_bad"})
    return summary[_VERDICT_COLUMNS]


_VERDICT_COLUMNS = ["prompt", "contender_a", "contender_b", "output_a", "output_b", "raters", "a_wins", "b_wins",
                    "ties", "both_bad", "agreement", "a_share", "verdicts", "generation_a", "generation_b"]


def _empty_verdicts() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("agreement", "a_share") else object)
                         for c in _VERDICT_COLUMNS})


def split_pairs(votes: pd.DataFrame, *, min_raters: int = 2) -> pd.DataFrame:
    """Pairs judged by at least `min_raters` raters who did not all agree: the least
    agreement first, then the most raters (a 2-2 split on four raters before a 1-1 on two)."""
    verdicts = pair_verdicts(votes)
    split = verdicts[(verdicts["raters"] >= min_raters) & (verdicts["agreement"] < 1)]
    return split.sort_values(["agreement", "raters", "generation_a", "generation_b"],
                             ascending=[True, False, True, True]).reset_index(drop=True)


def model_vs_raters(votes: pd.DataFrame, rewards: Mapping[int, float]) -> pd.DataFrame:
    """Each pair's human verdict beside a reward model's: `a_share` (the raters' share of
    the win for A), `model_a` (the model's P(A wins) from the rewards of both outputs,
    Bradley-Terry), `gap` (model minus raters), `raters_pick` (A, B, or "even"),
    `model_on_pick` (the model's probability for the raters' pick; NaN when even) and
    `disagree` (they pick different sides). Largest gap first; pairs with a generation
    missing from `rewards`, or whose verdicts were all "both bad", are left out."""
    verdicts = pair_verdicts(votes)
    reward_a = verdicts["generation_a"].map(rewards)
    reward_b = verdicts["generation_b"].map(rewards)
    verdicts = verdicts.assign(reward_a=reward_a.astype(float), reward_b=reward_b.astype(float))
    verdicts = verdicts.dropna(subset=["reward_a", "reward_b", "a_share"])
    verdicts["model_a"] = 1.0 / (1.0 + np.exp(-(verdicts["reward_a"] - verdicts["reward_b"])))
    verdicts["gap"] = verdicts["model_a"] - verdicts["a_share"]
    verdicts["raters_pick"] = np.select([verdicts["a_share"] > 0.5, verdicts["a_share"] < 0.5], ["A", "B"], "even")
    verdicts["model_on_pick"] = np.select([verdicts["raters_pick"] == "A", verdicts["raters_pick"] == "B"],
                                          [verdicts["model_a"], 1 - verdicts["model_a"]], np.nan)
    verdicts["disagree"] = ((verdicts["model_a"] - 0.5) * (verdicts["a_share"] - 0.5)) < 0
    ordered = verdicts.reindex(verdicts["gap"].abs().sort_values(ascending=False, kind="stable").index)
    first = ["prompt", "contender_a", "contender_b", "output_a", "output_b", "raters", "verdicts", "raters_pick",
             "a_share", "model_a", "model_on_pick", "gap", "disagree"]
    return ordered[first + [c for c in ordered.columns if c not in first]].reset_index(drop=True)
