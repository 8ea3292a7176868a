"""Too-fast votes, gold accuracy and the per-rater quality table with its flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench._sampling import crowd
from studio.errors import InputError
from studio.ranking.pace import reading_chars, too_fast, too_fast_counts, too_fast_threshold_ms
from studio.ranking.rater_quality import QUALITY_COLUMNS, QualityRules, gold_accuracy, rater_quality


def test_the_time_to_read_grows_with_both_answers():
    votes = pd.DataFrame({"rater": ["a", "a", "b", "b", "c"],
                          "left_text": ["x" * 500, "x" * 500, "short", None, "x" * 2000],
                          "right_text": ["y" * 500, "y" * 500, "reply", None, "y" * 2000],
                          "decision_ms": [9000, 12000, 1000, 1000, np.nan]})
    assert reading_chars(votes).tolist() == [1000, 1000, 10, 0, 4000]
    # 1.5 s plus 1 s per 100 characters: 11.5 s for 1,000, 1.6 s for 10, the base for an image
    assert too_fast_threshold_ms(reading_chars(votes)).tolist() == [11500, 11500, 1600, 1500, 41500]
    assert too_fast(votes).tolist() == [True, False, True, True, False]    # no decision time: never too fast
    assert too_fast_counts(votes).to_dict() == {"a": 1, "b": 2, "c": 0}
    assert too_fast(votes, chars_per_second=1000).tolist() == [False, False, True, True, False]
    assert too_fast(votes.assign(reading_chars=[0, 0, 0, 0, 0])).tolist() == [False, False, True, True, False]
    with pytest.raises(InputError, match="chars_per_second above 0"):
        too_fast(votes, chars_per_second=0)


def test_gold_accuracy_turns_each_vote_to_the_gold_items_sides():
    gold = pd.DataFrame({"left_generation_id": [1, 3], "right_generation_id": [2, 4], "outcome": ["left", "right"]})
    votes = pd.DataFrame({"rater": ["a", "a", "b", "b", "b"],
                          "left_generation_id": [1, 4, 2, 3, 5], "right_generation_id": [2, 3, 1, 4, 6],
                          "outcome": ["left", "left", "left", "tie", "left"]})
    table = gold_accuracy(votes, gold).set_index("rater")
    # a: right on (1, 2) and on (4, 3) shown swapped; b: wrong on (2, 1) swapped, a tie on (3, 4); (5, 6) no gold
    assert table.gold_votes.to_dict() == {"a": 2, "b": 2}
    assert table.gold_accuracy.to_dict() == {"a": 1.0, "b": 0.0}
    assert gold_accuracy(votes, None).empty


def test_the_table_flags_the_bad_raters_of_a_crowd():
    simulated = crowd(contenders=10, raters=120, votes_each=50, random_share=0.10, left_share=0.05, spread=1.5,
                      seed=5)
    quality = rater_quality(simulated.votes).set_index("rater")
    assert list(quality.reset_index().columns) == QUALITY_COLUMNS
    kind = simulated.kinds.reindex(quality.index)
    assert quality.flagged[kind == "left"].all() and quality.reasons[kind == "left"].str.contains("one_side").all()
    assert quality.flagged[kind == "random"].mean() >= 0.8
    assert quality.flagged[kind == "honest"].mean() <= 0.06
    assert (quality.reasons[quality.flagged & (kind == "random")].str.contains("anomalous")).all()
    # the others' model agrees with honest raters far more often than with random clickers
    assert quality.model_agreement[kind == "honest"].mean() > quality.model_agreement[kind == "random"].mean() + 0.15
    assert (quality.votes == 50).all() and (quality.gold_votes == 0).all() and quality.gold_accuracy.isna().all()


def test_consensus_gold_and_speed_have_their_own_flags():
    # four raters judge the same 30 pairs of outputs (A's answer on the left every other time): "one",
    # "two" and "fast" prefer A's, "fast" in a blink, "off" prefers B's
    rows = []
    for unit in range(30):
        swapped = unit % 2 == 1
        for rater, prefers_a, ms in (("one", True, 20000), ("two", True, 25000), ("fast", True, 300),
                                     ("off", False, 20000)):
            a_side, b_side = ("right", "left") if swapped else ("left", "right")
            rows.append({"rater": rater, "left_contender": "B" if swapped else "A",
                         "right_contender": "A" if swapped else "B", "outcome": a_side if prefers_a else b_side,
                         "left_generation_id": 2 * unit + swapped, "right_generation_id": 2 * unit + 1 - swapped,
                         "decision_ms": ms, "left_text": "x" * 400, "right_text": "y" * 400})
    votes = pd.DataFrame(rows)
    gold = pd.DataFrame({"left_generation_id": [0, 2, 4, 6, 8], "right_generation_id": [1, 3, 5, 7, 9],
                         "outcome": "left"})
    quality = rater_quality(votes, gold=gold, rules=QualityRules(min_decisive=10)).set_index("rater")
    assert quality.consensus_agreement.to_dict() == {"fast": 1.0, "off": 0.0, "one": 1.0, "two": 1.0}
    assert quality.too_fast.to_dict() == {"fast": 30, "off": 0, "one": 0, "two": 0}
    assert quality.gold_accuracy.to_dict() == {"fast": 1.0, "off": 0.0, "one": 1.0, "two": 1.0}
    assert quality.reasons["fast"] == "too_fast" and "gold" in quality.reasons["off"]
    assert quality.reasons["one"] == "" and not quality.flagged["two"]
    assert quality.median_decision_ms.to_dict() == {"fast": 300, "off": 20000, "one": 20000, "two": 25000}
