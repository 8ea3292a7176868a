"""The pure parts of exporting: rows per format, majority per pair, splits by prompt."""

from __future__ import annotations

import pytest

from studio.errors import InputError
from studio.exchange import split
from studio.exchange.aggregate import add_majority, at_least, check_min_agreement, majority_outcome
from studio.exchange.dialogue import fold, split_prompt, turns
from studio.exchange.formats import Options, build, handling, schema


def chunk(outcomes, *, system=(None, None)):
    n = len(outcomes)
    return {
        "comparison_id": list(range(1, n + 1)), "created_at": [None] * n, "prompt_set": ["s"] * n,
        "prompt_id": [1] * n, "prompt": ["Q?"] * n, "system_prompt": [None] * n,
        "left_contender": ["a"] * n, "right_contender": ["b"] * n, "left_generation_id": [1] * n,
        "right_generation_id": [2] * n, "left_text": ["L"] * n, "right_text": ["R"] * n,
        "left_media": [None] * n, "right_media": [None] * n, "left_system_prompt": [system[0]] * n,
        "right_system_prompt": [system[1]] * n, "outcome": list(outcomes), "rater": ["r"] * n,
        "rationale": [None] * n, "decision_ms": [5] * n, "session_id": [None] * n, "group_id": [None] * n,
        "item_id": [None] * n, "source": ["ui"] * n, "idempotency_key": [f"k{i}" for i in range(n)],
    }


def test_trl_rows_put_the_winner_in_chosen_and_drop_no_preference():
    out = build(chunk(["left", "right", "tie", "both_bad"]), Options("trl"))
    assert out == {"prompt": ["Q?", "Q?"], "chosen": ["L", "R"], "rejected": ["R", "L"]}


@pytest.mark.parametrize("fmt", ["trl", "trl-implicit", "trl-conversational", "hf"])
def test_a_kept_tie_is_written_both_ways_so_no_side_wins(fmt):
    """A row of a preference format says which side won; a tie written once (left chosen,
    margin 0) trains as "left wins". Kept, it is two rows, one each way; "both bad" (no
    order between two bad outputs) is left out."""
    out = build(chunk(["right", "tie", "both_bad"]), Options(fmt, ties="keep"))
    chosen, rejected = (["R", "L", "R"], ["L", "R", "L"])
    if fmt == "trl-implicit":
        chosen, rejected = [fold("Q?", c) for c in chosen], [fold("Q?", r) for r in rejected]
    elif fmt == "trl-conversational":
        chosen = [[{"role": "assistant", "content": c}] for c in chosen]
        rejected = [[{"role": "assistant", "content": r}] for r in rejected]
    assert out["chosen"] == chosen and out["rejected"] == rejected
    assert out["label"] == [1.0, 0.5, 0.5] and out["margin"] == [1.0, 0.0, 0.0]
    assert handling(Options(fmt, ties="keep")) == {"tie": "both ways", "both_bad": "dropped"}
    assert handling(Options(fmt)) == {"tie": "dropped", "both_bad": "dropped"}


def test_implicit_rows_fold_the_prompt_into_an_hh_dialogue():
    out = build(chunk(["left"]), Options("trl-implicit"))
    assert out == {"chosen": ["\n\nHuman: Q?\n\nAssistant: L"], "rejected": ["\n\nHuman: Q?\n\nAssistant: R"]}


def test_conversational_rows_carry_a_shared_system_prompt_only():
    same = build(chunk(["left"], system=("Be brief.", "Be brief.")), Options("trl-conversational"))
    assert same["prompt"] == [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q?"}]]
    assert same["chosen"] == [[{"role": "assistant", "content": "L"}]]
    different = build(chunk(["left"], system=("Be brief.", None)), Options("trl-conversational"))
    assert different["prompt"] == [[{"role": "user", "content": "Q?"}]]


def test_kto_labels_both_sides_and_both_bad_makes_both_undesirable():
    out = build(chunk(["left", "both_bad", "tie"]), Options("kto"))
    assert out["completion"] == ["L", "R", "L", "R"]
    assert out["label"] == [True, False, False, False]


def test_vote_rows_keep_every_column_and_name_the_winner():
    out = build(chunk(["left", "tie", "both_bad"]), Options("jsonl"))
    assert out["winner"] == ["a", None] and out["outcome"] == ["left", "both_bad"]
    assert set(schema(Options("jsonl")).names) >= {"prompt", "left_text", "right_text", "left_contender",
                                                   "rater", "outcome", "rationale", "decision_ms", "created_at"}
    assert build(chunk(["tie"]), Options("csv", ties="keep"))["outcome"] == ["tie"]


def test_image_sides_are_images_in_trl_and_hf_and_media_paths_elsewhere():
    rows = chunk(["left"])
    rows["left_text"], rows["left_media"] = [None], ["media/ab/abc.png"]
    for fmt in ("trl", "hf"):
        out = build(rows, Options(fmt, images=True))
        assert out["chosen"] == [None] and out["rejected"] == ["R"]     # no file path posing as text
        assert out["chosen_image"] == ["media/ab/abc.png"] and out["rejected_image"] == [None]
    assert build(rows, Options("trl-implicit"))["chosen"] == [fold("Q?", "media/ab/abc.png")]
    assert build(rows, Options("kto"))["completion"][0] == "media/ab/abc.png"


@pytest.mark.parametrize("counts, expected", [
    ({"left": 3, "right": 1, "tie": 0, "both_bad": 0}, ("left", 0.75)),
    ({"left": 1, "right": 1, "tie": 0, "both_bad": 0}, ("tie", 0.5)),
    ({"left": 0, "right": 0, "tie": 0, "both_bad": 2}, ("both_bad", 1.0)),
])
def test_majority_outcome_and_agreement(counts, expected):
    assert majority_outcome(counts) == expected


def test_majority_chunks_filter_by_agreement():
    pairs = {"left_votes": [2, 1], "right_votes": [0, 1], "tie_votes": [0, 0], "both_bad_votes": [1, 0],
             "votes": [3, 2], "prompt": ["a", "b"]}
    with_majority = add_majority(pairs)
    assert with_majority["outcome"] == ["left", "tie"]
    assert at_least(with_majority, 0.6)["prompt"] == ["a"]
    with pytest.raises(InputError, match="--aggregate majority"):
        check_min_agreement(0.5, "raw")


def test_splits_are_by_prompt_deterministic_and_near_the_fraction():
    splitter = split.Splitter({"test": 0.2})
    prompts = [f"prompt {i}" for i in range(2000)]
    first = [splitter(p) for p in prompts]
    assert first == [split.Splitter({"test": 0.2})(p) for p in prompts]
    assert 0.15 < first.count("test") / len(prompts) < 0.25
    assert splitter("  prompt 7 ") == splitter("prompt 7")


@pytest.mark.parametrize("items, message", [
    (["test"], "NAME=FRACTION"), (["test=abc"], "NAME=FRACTION"), (["test=1.5"], "between 0 and 1"),
    (["train=0.1"], "what remains"), (["a=0.6", "b=0.5"], "leave some for train"), (["../x=0.1"], "split name"),
])
def test_bad_split_specs_are_refused(items, message):
    with pytest.raises(InputError, match=message):
        split.parse(items)


def test_hh_dialogues_round_trip_through_messages():
    dialogue = "\n\nHuman: hi\n\nAssistant: hello\n\nHuman: and?\n\nAssistant:"
    assert turns(dialogue) == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                               {"role": "user", "content": "and?"}]
    assert split_prompt(fold(dialogue, "yes"), fold(dialogue, "no")) == (dialogue, "yes", "no")
    assert split_prompt("\n\nHuman: a\n\nAssistant: x", "\n\nHuman: b\n\nAssistant: y") is None
