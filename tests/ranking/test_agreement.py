"""Agreement: figures checked by hand and against scikit-learn and krippendorff, and the
edge cases (one rater, all ties, raters who never meet)."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from studio.ranking import agreement, rater_table
from studio.ranking.agreement import CATEGORIES, COHEN_COLUMNS, RATER_COLUMNS, judgements
from tests.ranking.helpers import judged

# unit 0: all three pick the left output; unit 1: two right, one tie; unit 2: two left, one
# right; unit 3: two ties (r3 absent); unit 4: r1 alone (says nothing about agreement)
VOTES = judged((0, "r1", "left"), (0, "r2", "left"), (0, "r3", "left"),
               (1, "r1", "right"), (1, "r2", "right"), (1, "r3", "tie"),
               (2, "r1", "left"), (2, "r2", "right"), (2, "r3", "left"),
               (3, "r1", "tie"), (3, "r2", "tie"),
               (4, "r1", "left"))


def test_percent_agreement_over_pairs_of_raters_with_and_without_ties():
    report = agreement(VOTES)
    assert (report.units, report.judgements, report.raters) == (4, 11, 3)
    # agreeing rater pairs / all rater pairs, unit by unit: 3/3, 1/3, 1/3, 1/1
    assert report.percent_agreement == pytest.approx(6 / 10)
    # decisive pairs only: 3/3, 1/1, 1/3, none
    assert report.percent_agreement_decisive == pytest.approx(5 / 7)


def test_fleiss_kappa_by_hand():
    # mean unit agreement 2/3; category shares 5/11, 3/11, 3/11 -> chance 43/121
    assert agreement(VOTES).fleiss_kappa == pytest.approx(113 / 234)


def test_krippendorff_alpha_matches_the_krippendorff_package():
    table = judgements(VOTES).pivot(index="rater", columns="unit", values="category").to_numpy(dtype=float)
    expected = krippendorff.alpha(reliability_data=table, level_of_measurement="nominal")
    assert agreement(VOTES).krippendorff_alpha == pytest.approx(expected, abs=1e-12)


def test_cohen_kappa_per_rater_pair_matches_scikit_learn():
    cohen = agreement(VOTES).cohen.set_index(["rater_a", "rater_b"])
    assert list(agreement(VOTES).cohen.columns) == COHEN_COLUMNS
    labels = judgements(VOTES).pivot(index="unit", columns="rater", values="category")
    for a, b in [("r1", "r2"), ("r1", "r3"), ("r2", "r3")]:
        both = labels[[a, b]].dropna()
        assert cohen.loc[(a, b), "shared"] == len(both)
        assert cohen.loc[(a, b), "kappa"] == pytest.approx(cohen_kappa_score(both[a], both[b]), abs=1e-12)
        assert cohen.loc[(a, b), "agreement"] == pytest.approx((both[a] == both[b]).mean())


def test_raters_who_saw_the_sides_swapped_agree_when_they_chose_the_same_output():
    votes = judged((0, "r1", "left"), (0, "r2", "right"), (1, "r1", "right"), (1, "r2", "left"),
                   (2, "r1", "tie"), (2, "r2", "tie"), swapped={(0, "r2"), (1, "r2")})
    report = agreement(votes)
    assert report.percent_agreement == 1.0 and report.cohen.kappa.iloc[0] == pytest.approx(1.0)
    assert set(judgements(votes).category) == {0, 1, 2}
    assert CATEGORIES[:3] == ("first", "second", "tie")


def test_a_raters_later_vote_on_a_unit_replaces_the_earlier_one():
    votes = judged((0, "r1", "left"), (0, "r2", "right"), (0, "r1", "right"))
    assert agreement(votes).percent_agreement == 1.0
    assert rater_table(votes).set_index("rater").votes["r1"] == 2   # both votes still count as work done


def test_per_rater_table_majority_of_the_others_and_decision_time():
    table = agreement(VOTES).per_rater.set_index("rater")
    assert list(agreement(VOTES).per_rater.columns) == RATER_COLUMNS
    assert list(table.votes) == [5, 4, 3]
    # r1: the others' majority exists on units 0 and 3 (agrees on both); units 1, 2 split
    assert (table.majority_votes["r1"], table.majority_agreement["r1"]) == (2, 1.0)
    assert (table.majority_votes["r2"], table.majority_agreement["r2"]) == (3, pytest.approx(2 / 3))
    assert (table.majority_votes["r3"], table.majority_agreement["r3"]) == (2, 0.5)
    assert table.median_decision_ms["r3"] == 6000          # votes 3, 6, 9 -> 3000, 6000, 9000 ms
    assert table.reward_model_votes.eq(0).all() and table.reward_model_agreement.isna().all()


def test_agreement_with_the_reward_model_uses_decisive_votes_it_predicted():
    predictions = pd.DataFrame({"comparison_id": [1, 2, 4, 6, 10], "prob_left": [0.9, 0.2, 0.1, 0.7, 0.5]})
    table = agreement(VOTES, predictions).per_rater.set_index("rater")
    # r1: vote 1 left (0.9: agrees), vote 4 right (0.1: agrees), vote 10 tie (not decisive)
    assert (table.reward_model_votes["r1"], table.reward_model_agreement["r1"]) == (2, 1.0)
    # r2: vote 2 left (0.2 says right: disagrees); r3: vote 6 is a tie
    assert (table.reward_model_votes["r2"], table.reward_model_agreement["r2"]) == (1, 0.0)
    assert table.reward_model_votes["r3"] == 0 and math.isnan(table.reward_model_agreement["r3"])


def test_a_single_rater_gives_no_agreement_but_a_rater_table():
    report = agreement(judged((0, "r1", "left"), (1, "r1", "tie")))
    assert report.units == 0 and report.cohen.empty and list(report.cohen.columns) == COHEN_COLUMNS
    for value in (report.percent_agreement, report.percent_agreement_decisive, report.fleiss_kappa,
                  report.krippendorff_alpha):
        assert math.isnan(value)
    assert report.per_rater.votes.tolist() == [2] and math.isnan(report.per_rater.majority_agreement[0])


def test_all_ties_agree_fully_but_leave_chance_corrected_figures_undefined():
    report = agreement(judged((0, "r1", "tie"), (0, "r2", "tie"), (1, "r1", "tie"), (1, "r2", "tie")))
    assert report.percent_agreement == 1.0 and math.isnan(report.percent_agreement_decisive)
    assert math.isnan(report.fleiss_kappa) and math.isnan(report.krippendorff_alpha)
    assert math.isnan(report.cohen.kappa.iloc[0]) and report.cohen.agreement.iloc[0] == 1.0


def test_raters_who_never_judge_the_same_pair_share_nothing():
    report = agreement(judged((0, "r1", "left"), (1, "r2", "right"), (2, "r3", "tie")))
    assert report.units == 0 and report.cohen.empty and math.isnan(report.percent_agreement)
    assert report.per_rater.votes.tolist() == [1, 1, 1]


def test_the_report_serialises_to_plain_json():
    import json

    data = json.loads(json.dumps(agreement(judged((0, "r1", "left"), (1, "r2", "left"))).to_dict()))
    assert data["fleiss_kappa"] is None and data["per_rater"][0]["rater"] == "r1"
    assert data["per_rater"][0]["reward_model_agreement"] is None


def test_figures_do_not_depend_on_the_order_of_the_votes():
    shuffled = VOTES.sample(frac=1.0, random_state=0)
    ours, theirs = agreement(VOTES), agreement(shuffled)
    assert ours.summary() == pytest.approx(theirs.summary())
    assert np.allclose(ours.cohen.kappa, theirs.cohen.kappa)
