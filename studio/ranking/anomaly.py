"""Raters whose votes do not look like judgements: a test per rater, with a p-value.

Chatbot Arena (Chiang et al. 2024) tests each new user's votes against the history of
the same model pair: a p-value per vote from how the other users voted on that pair,
combined over the user's votes with Fisher's method (`method="arena"` here). Those
per-vote p-values are coarse with two outcomes (a vote with the majority gets p = 1), so
the combined test is valid but weak. The default (`method="likelihood"`) asks the same
question of the fitted model, and is the most powerful test against raters who click at
random:

- The model is Bradley-Terry fitted on everybody else's decisive votes (one fit per
  rater, all at once, as the bootstrap rounds are), so a rater is judged against the others.
- For each of the rater's decisive votes (left or right) with p the probability the
  model gives the left side, the surprise is -log of the probability of the side chosen.
  Under the null hypothesis that the rater votes as the model says, the sum S of
  surprises has mean sum of the entropies H(p) and variance sum of p (1 - p) logit(p)^2.
- z = (S - mean) / sd is the score; the p-value is P(S >= observed) for an honest rater
  on the same pairs, simulated (2,000 draws, seeded: the smallest p-value is 1/2001). The
  normal tail flags 1.3 to 2 times too many honest raters with 20 to 50 votes, and any
  approximation fails where the model is nearly sure of a side. A rater is anomalous when
  their votes are less predictable than honest votes would be; raters who follow the
  model better than it predicts are not suspicious.

Votes for ties and "both bad" carry no side and are left out of this test. A rater who
presses one side whatever is shown is caught too, and faster, by `position_p`: a
two-sided binomial test of the share of decisive votes for the left side against 1/2
(the arena shuffles sides, so an honest rater's left share is 1/2 whatever they think).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import binom, chi2

from studio.errors import InputError
from studio.ranking.bradley_terry import fit_theta, matchup_rows
from studio.ranking.votes import DECISIVE, require_columns

ANOMALY_COLUMNS = ["rater", "decisive", "surprise", "expected_surprise", "anomaly_z", "anomaly_p",
                   "left_share", "position_p"]
_RATERS_AT_ONCE = 256


def anomaly_scores(votes: pd.DataFrame, *, method: str = "likelihood", exclude: Iterable[str] = (),
                   probability: np.ndarray | None = None, draws: int = 2000, seed: int = 0) -> pd.DataFrame:
    """ANOMALY_COLUMNS, one row per rater: decisive votes, their total surprise against
    the model fitted on the other raters and what an honest rater's would be, the test's
    z and p-value (NaN without decisive votes or when every pair is an even match), the
    share of decisive votes for the left side and its binomial p-value. The votes of the
    raters in `exclude` stay out of the model (they are still tested): a second pass
    without the raters a first pass flagged judges everybody against a cleaner model.
    `probability` is `left_probability(votes, exclude=exclude)` when already computed;
    `draws` and `seed` set the simulation of the likelihood test's p-value."""
    require_columns(votes, ("rater", "left_contender", "right_contender", "outcome"), what="the anomaly test")
    if method not in ("likelihood", "arena"):
        raise InputError(f"unknown anomaly test {method!r}: expected likelihood or arena")
    votes = votes.reset_index(drop=True)
    excluded = votes["rater"].isin(set(exclude)).to_numpy()
    if method == "likelihood" and probability is None:
        probability = left_probability(votes, exclude=exclude)
    decisive = votes["outcome"].isin(DECISIVE) & (votes["left_contender"] != votes["right_contender"])
    table = pd.DataFrame(index=pd.Index(sorted(votes["rater"].unique()), name="rater"))
    chosen = votes[decisive]
    left = (chosen["outcome"] == "left").to_numpy()
    table["decisive"] = chosen.groupby("rater").size().reindex(table.index, fill_value=0)
    if method == "likelihood":
        scores = _likelihood_test(chosen["rater"], probability[decisive.to_numpy()], left, draws=draws, seed=seed)
    else:
        scores = _arena_test(chosen, left, excluded[decisive.to_numpy()])
    table = table.join(scores)
    lefts = pd.Series(left, index=chosen.index).groupby(chosen["rater"]).sum().reindex(table.index, fill_value=0)
    table["left_share"] = lefts / table["decisive"].where(table["decisive"] > 0)
    table["position_p"] = binomial_two_sided(lefts.to_numpy(), table["decisive"].to_numpy())
    return table.reset_index()[ANOMALY_COLUMNS]


def binomial_two_sided(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """P-value of k successes in n against 1/2, two-sided (NaN where n is 0)."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    tail = np.minimum(binom.cdf(k, n, 0.5), binom.sf(k - 1, n, 0.5))
    return np.where(n > 0, np.minimum(1.0, 2.0 * tail), np.nan)


def left_probability(votes: pd.DataFrame, *, exclude: Iterable[str] = ()) -> np.ndarray:
    """(votes,) the probability that the left side wins a decisive vote, under Bradley-Terry
    fitted on the decisive votes of every rater but the vote's own and those in `exclude`
    (NaN for a contender against itself or one with no decisive vote); one fit per rater,
    all at once. Ties stay out of the fit: counted as half wins they pull the strengths
    together, and the model would then expect decisive votes to be closer to a coin toss
    than they are."""
    votes = votes.reset_index(drop=True)
    probability = np.full(len(votes), np.nan)
    decisive = votes["outcome"].isin(DECISIVE) & (votes["left_contender"] != votes["right_contender"])
    if not decisive.any():
        return probability
    m, rows = matchup_rows(votes[decisive])              # rows indexed by the votes' positions
    _, rater_of = np.unique(votes["rater"].to_numpy(dtype=object).astype(str), return_inverse=True)
    left = m.contenders.get_indexer(votes["left_contender"])
    right = m.contenders.get_indexer(votes["right_contender"])
    known = (left >= 0) & (right >= 0) & (left != right)
    counted = rows.index.to_numpy()
    counted = counted[~votes["rater"].isin(set(exclude)).to_numpy()[counted]]   # excluded: out of every fit
    base = np.bincount(rows[counted].to_numpy(), minlength=len(m.count)).astype(float)
    start = fit_theta(m, base)[0]
    for first in range(0, rater_of.max() + 1, _RATERS_AT_ONCE):
        group = slice(first, first + _RATERS_AT_ONCE)
        own = np.zeros((min(_RATERS_AT_ONCE, rater_of.max() + 1 - first), len(m.count)))
        mine = counted[(rater_of[counted] >= first) & (rater_of[counted] < first + _RATERS_AT_ONCE)]
        np.add.at(own, (rater_of[mine] - first, rows[mine].to_numpy()), 1.0)
        theta = fit_theta(m, base[None, :] - own, start=start)              # one fit per rater of the group
        these = np.flatnonzero(known & (rater_of >= group.start) & (rater_of < group.stop))
        fitted = theta[rater_of[these] - first]
        probability[these] = expit(fitted[np.arange(len(these)), left[these]]
                                   - fitted[np.arange(len(these)), right[these]])
    return probability


def _likelihood_test(rater: pd.Series, probability: np.ndarray, left: np.ndarray, *, draws: int,
                     seed: int) -> pd.DataFrame:
    p = np.clip(probability, 1e-12, 1 - 1e-12)
    if_left, if_right = -np.log(p), -np.log(1.0 - p)              # the surprise of either side
    surprise = np.where(left, if_left, if_right)
    mean = p * if_left + (1.0 - p) * if_right                      # the entropy
    variance = p * (if_left - mean) ** 2 + (1.0 - p) * (if_right - mean) ** 2
    frame = pd.DataFrame({"rater": rater.to_numpy(), "surprise": surprise, "expected_surprise": mean,
                          "variance": variance, "p": p, "if_left": if_left, "if_right": if_right})
    frame = frame.sort_values("rater", kind="stable")
    sums = frame.groupby("rater", sort=True)[["surprise", "expected_surprise", "variance"]].sum()
    defined = sums["variance"] > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        z = ((sums["surprise"] - sums["expected_surprise"]) / np.sqrt(sums["variance"])).where(defined)
    p_value = _simulated_tail(frame, sums["surprise"].to_numpy(), draws=draws, seed=seed)
    return pd.DataFrame({"surprise": sums["surprise"], "expected_surprise": sums["expected_surprise"],
                         "anomaly_z": z, "anomaly_p": pd.Series(p_value, index=sums.index).where(defined)})


def _simulated_tail(frame: pd.DataFrame, observed: np.ndarray, *, draws: int, seed: int) -> np.ndarray:
    """Per rater (frame sorted by rater): P(S >= observed) for an honest rater of the model
    on the same pairs, from `draws` simulated sets of votes: (1 + draws at least as
    surprising) / (1 + draws). With few votes or votes the model is nearly sure about, the
    sum is far from normal (a rare vote against a near-certain side weighs a lot), so the
    tail is simulated rather than approximated."""
    rng = np.random.default_rng(seed)
    starts = np.flatnonzero(np.r_[True, frame["rater"].to_numpy()[1:] != frame["rater"].to_numpy()[:-1]])
    ends = np.r_[starts[1:], len(frame)]
    p, if_left, if_right = (frame[c].to_numpy() for c in ("p", "if_left", "if_right"))
    at_least = np.zeros(len(starts))
    per_chunk = max(1, 2 ** 22 // max(draws, 1))            # votes simulated at once
    first = 0
    while first < len(starts):
        last = first
        while last < len(starts) and ends[last] - starts[first] <= per_chunk or last == first:
            last += 1
        begin, end = starts[first], ends[last - 1]
        voted_left = rng.random((end - begin, draws)) < p[begin:end, None]
        simulated = np.where(voted_left, if_left[begin:end, None], if_right[begin:end, None])
        totals = np.add.reduceat(simulated, starts[first:last] - begin, axis=0)      # (raters, draws)
        at_least[first:last] = (totals >= observed[first:last, None] - 1e-9).sum(axis=1)
        first = last
    return (1.0 + at_least) / (1.0 + draws)


def _arena_test(chosen: pd.DataFrame, left: np.ndarray, excluded: np.ndarray) -> pd.DataFrame:
    """Per vote, p = (1 + others' votes on the same pair for a side no more common among
    them than the side chosen) / (1 + others' votes on that pair); Fisher's method over
    the rater's votes: -2 sum log p against chi-squared with 2n degrees of freedom."""
    left_name = chosen["left_contender"].astype(str).to_numpy()
    right_name = chosen["right_contender"].astype(str).to_numpy()
    first = np.where(left_name < right_name, left_name, right_name)
    second = np.where(left_name < right_name, right_name, left_name)
    pair = pd.Series(first + "\x00" + second, index=chosen.index)
    for_first = np.where(left, left_name == first, right_name == first)        # the side chosen is `first`
    frame = pd.DataFrame({"pair": pair, "rater": chosen["rater"], "first": for_first.astype(float),
                          "counted": (~excluded).astype(float)})
    frame["counted_first"] = frame["first"] * frame["counted"]
    pair_all = frame.groupby("pair")[["counted_first", "counted"]].sum()
    own = frame.groupby(["pair", "rater"])[["counted_first", "counted"]].sum()
    key = pd.MultiIndex.from_arrays([frame["pair"], frame["rater"]])
    others_first = (pair_all["counted_first"].reindex(frame["pair"]).to_numpy()
                    - own["counted_first"].reindex(key).to_numpy())
    others = pair_all["counted"].reindex(frame["pair"]).to_numpy() - own["counted"].reindex(key).to_numpy()
    same = np.where(for_first == 1.0, others_first, others - others_first)
    other_side = others - same
    no_more_common = np.where(same < other_side, same, others)     # others' votes for a side no more common
    p_vote = (1.0 + no_more_common) / (1.0 + others)
    statistic = pd.Series(-2.0 * np.log(p_vote), index=chosen.index).groupby(chosen["rater"].to_numpy()).sum()
    count = frame.groupby(frame["rater"].to_numpy()).size()
    p_value = pd.Series(chi2.sf(statistic.to_numpy(), 2 * count.reindex(statistic.index).to_numpy()),
                        index=statistic.index)
    return pd.DataFrame({"surprise": statistic, "expected_surprise": 2.0 * count, "anomaly_z": np.nan,
                         "anomaly_p": p_value})
