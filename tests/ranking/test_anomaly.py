"""The per-rater anomaly test: a model of the other raters, calibrated p-values for honest
raters, random clickers and one-button raters caught, and the Arena's test beside it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from bench._sampling import crowd
from studio.errors import InputError
from studio.ranking.anomaly import (
    ANOMALY_COLUMNS,
    anomaly_scores,
    binomial_two_sided,
    left_probability,
)


def two_contender_votes() -> pd.DataFrame:
    """Raters r1..r5 vote A over B 7 times in 10 (and one tie each); rater x votes B 20 times."""
    rows = []
    for rater in ("r1", "r2", "r3", "r4", "r5"):
        rows += [("A", "B", "left", rater)] * 7 + [("B", "A", "left", rater)] * 3 + [("A", "B", "tie", rater)]
    rows += [("A", "B", "right", "x")] * 20
    return pd.DataFrame(rows, columns=["left_contender", "right_contender", "outcome", "rater"])


def test_each_rater_is_judged_by_a_model_of_the_other_raters_decisive_votes():
    votes = two_contender_votes()
    probability = pd.Series(left_probability(votes), index=votes.index)
    # x's votes: the others chose A 35 times in 50 decisive votes (their ties left out)
    assert probability[votes.rater == "x"].to_numpy() == pytest.approx(0.7, abs=1e-4)
    # r1's votes: the others are r2..r5 (28 of 40 for A) and x (20 for B): A 28 times in 60
    on_the_left = votes.left_contender == "A"
    r1 = probability[(votes.rater == "r1") & on_the_left & (votes.outcome != "tie")]
    assert r1.to_numpy() == pytest.approx(28 / 60, abs=1e-4)
    # leaving x out of the model: r1's others are r2..r5 alone
    without_x = pd.Series(left_probability(votes, exclude=["x"]), index=votes.index)
    assert without_x[(votes.rater == "r1") & on_the_left].to_numpy() == pytest.approx(0.7, abs=1e-4)
    scores = anomaly_scores(votes).set_index("rater")
    assert list(scores.reset_index().columns) == ANOMALY_COLUMNS
    assert scores.anomaly_p["x"] == pytest.approx(1 / 2001) and scores.anomaly_z["x"] > 4   # no draw as surprising
    assert scores.decisive.to_dict() == {"r1": 10, "r2": 10, "r3": 10, "r4": 10, "r5": 10, "x": 20}


def test_honest_raters_get_calibrated_p_values():
    honest = crowd(contenders=10, raters=300, votes_each=50, random_share=0.0, left_share=0.0, spread=1.5, seed=0,
                   sharpness=(1.0, 1.0))
    scores = anomaly_scores(honest.votes)
    for level in (0.025, 0.05, 0.2, 0.5):          # about uniform: as often below a level as the level says
        assert (scores.anomaly_p < level).mean() == pytest.approx(level, abs=max(0.02, level / 4))
    assert (scores.position_p < 0.01).mean() < 0.02


def test_random_clickers_and_one_button_raters_get_small_p_values():
    simulated = crowd(contenders=10, raters=300, votes_each=50, random_share=0.10, left_share=0.05, spread=1.5,
                      seed=3, sharpness=(1.0, 1.0))
    scores = anomaly_scores(simulated.votes).set_index("rater")
    kind = simulated.kinds.reindex(scores.index)
    assert (scores.anomaly_p[kind == "random"] < 0.025).mean() >= 0.8
    assert (scores.anomaly_p[kind == "honest"] < 0.025).mean() <= 0.025     # a flatter model: fewer, not more
    # a rater pressing left: the position test says so whatever the model
    assert (scores.position_p[kind == "left"] < 1e-9).all() and (scores.left_share[kind == "left"] == 1).all()
    # leaving the bad raters out of the model sharpens it: more random clickers caught
    again = anomaly_scores(simulated.votes, exclude=kind.index[kind != "honest"]).set_index("rater")
    assert (again.anomaly_p[kind == "random"] < 0.025).mean() >= (scores.anomaly_p[kind == "random"] < 0.025).mean()


def test_the_arena_test_is_valid_but_weaker():
    simulated = crowd(contenders=10, raters=200, votes_each=50, random_share=0.10, left_share=0.0, spread=1.5,
                      seed=4, sharpness=(1.0, 1.0))
    ours = anomaly_scores(simulated.votes).set_index("rater")
    arena = anomaly_scores(simulated.votes, method="arena").set_index("rater")
    kind = simulated.kinds.reindex(ours.index)
    assert (arena.anomaly_p[kind == "honest"] < 0.05).mean() <= 0.05          # valid
    assert arena.anomaly_p[kind == "random"].median() < arena.anomaly_p[kind == "honest"].median()
    assert (ours.anomaly_p[kind == "random"] < 0.025).mean() > (arena.anomaly_p[kind == "random"] < 0.025).mean()
    with pytest.raises(InputError, match="unknown anomaly test 'vibes'"):
        anomaly_scores(simulated.votes, method="vibes")


def test_the_two_sided_binomial_p_value_is_scipys():
    for k, n in ((0, 10), (3, 10), (5, 10), (9, 10), (50, 50), (12, 30)):
        assert binomial_two_sided(np.array([k]), np.array([n]))[0] == pytest.approx(binomtest(k, n).pvalue)
    assert np.isnan(binomial_two_sided(np.array([0]), np.array([0]))[0])


def test_raters_without_decisive_votes_or_information_get_no_p_value():
    votes = pd.DataFrame({"left_contender": ["A", "A", "B", "A"], "right_contender": ["B", "B", "A", "B"],
                          "outcome": ["tie", "left", "left", "right"], "rater": ["t", "u", "v", "w"]})
    scores = anomaly_scores(votes).set_index("rater")
    assert scores.decisive["t"] == 0 and np.isnan(scores.anomaly_p["t"]) and np.isnan(scores.position_p["t"])
    assert scores.decisive[["u", "v", "w"]].tolist() == [1, 1, 1]
