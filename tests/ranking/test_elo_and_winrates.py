"""Online Elo, battle counts, win rates and position bias on hand-checkable votes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from studio.ranking import battle_counts, online_elo, position_bias, win_rates
from studio.ranking.winrates import wilson_interval
from tests.ranking.helpers import frame


def test_online_elo_replays_the_votes_in_order():
    elo = online_elo(frame(("A", "B", "left"), ("B", "A", "left")), k=32)
    # vote 1: equal ratings, A expected 0.5, wins: +16 / -16
    # vote 2: B (984) beats A (1016): B expected 1 / (1 + 10 ** (32 / 400))
    expected_b = 1 / (1 + 10 ** (32 / 400))
    assert elo["B"] == pytest.approx(984 + 32 * (1 - expected_b))
    assert elo["A"] == pytest.approx(1016 - 32 * (1 - expected_b))
    assert online_elo(frame(("A", "B", "tie")))["A"] == pytest.approx(1000)


VOTES = frame(("A", "B", "left"), ("A", "B", "left"), ("B", "A", "left"), ("A", "B", "tie"),
              ("A", "C", "right"), ("C", "B", "both_bad"))


def test_battle_counts_are_symmetric_whatever_the_side():
    counts = battle_counts(VOTES)
    assert counts.loc["A", "B"] == counts.loc["B", "A"] == 4
    assert counts.loc["A", "C"] == 1 and counts.loc["B", "C"] == 1 and counts.loc["A", "A"] == 0
    reordered = battle_counts(VOTES, order=["C", "B", "A"])
    assert list(reordered.index) == ["C", "B", "A"] and reordered.loc["C", "A"] == 1


def test_win_rates_count_ties_as_halves_or_leave_them_out():
    rates = win_rates(VOTES)
    # A against B: two wins, one loss, one tie -> 2.5 / 4
    assert rates.loc["A", "B"] == pytest.approx(0.625) and rates.loc["B", "A"] == pytest.approx(0.375)
    assert rates.loc["C", "A"] == 1.0 and rates.loc["B", "C"] == 0.5
    assert np.isnan(rates.loc["A", "A"])
    decisive = win_rates(VOTES, ties="exclude")
    assert decisive.loc["A", "B"] == pytest.approx(2 / 3) and np.isnan(decisive.loc["B", "C"])


def test_contenders_who_never_met_have_no_win_rate():
    rates = win_rates(frame(("A", "B", "left"), ("C", "D", "left")))
    assert np.isnan(rates.loc["A", "C"]) and rates.loc["C", "D"] == 1.0


def test_position_bias_is_the_left_share_of_decisive_votes_with_a_wilson_interval():
    votes = frame(*[("A", "B", "left")] * 8, *[("A", "B", "right")] * 2, ("A", "B", "tie"))
    bias = position_bias(votes)
    assert bias["left_share"] == 0.8 and bias["n"] == 10 and bias["ties"] == 1 and bias["left_wins"] == 8
    # Wilson 95% interval for 8 of 10, as tabulated
    assert (bias["ci_low"], bias["ci_high"]) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert bias["p_value"] == pytest.approx(0.109375)        # two-sided binomial: 2 * P(X >= 8)


def test_position_bias_without_decisive_votes_is_undefined():
    bias = position_bias(frame(("A", "B", "tie")))
    assert bias["n"] == 0 and np.isnan(bias["left_share"]) and np.isnan(bias["ci_low"])


def test_the_wilson_interval_stays_within_zero_and_one():
    low, high = wilson_interval(0, 5)
    assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 0.5
    assert wilson_interval(5, 5)[1] == pytest.approx(1.0)


def test_a_frame_without_the_needed_columns_is_refused():
    from studio.errors import InputError

    with pytest.raises(InputError, match="left_contender"):
        win_rates(pd.DataFrame({"outcome": ["left"]}))
