"""Votes to training data: ties, both-bad, the split by prompt, and batches grouped by prompt."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from studio.errors import InputError
from studio.rewards.data import (
    from_comparisons,
    group_batches,
    heldout_prompts,
    read_pairs_file,
    split_by_prompt,
)
from tests.rewards.helpers import marker_data


def vote(cid, outcome, prompt="P", left="a", right="b"):
    return {"id": cid, "outcome": outcome, "prompt": prompt, "left_text": left, "right_text": right,
            "left_media": None, "right_media": None, "left_sha256": None, "right_sha256": None}


def test_votes_become_pairs_with_ties_at_half_and_both_bad_left_out():
    data = from_comparisons([vote(1, "left"), vote(2, "right"), vote(3, "tie"), vote(4, "both_bad"),
                             vote(5, "left", left="c", right="a")])
    assert [p.target for p in data.pairs] == [1.0, 0.0, 0.5, 1.0]
    assert len(data.items) == 3                        # each output once, however many votes
    assert (data.min_comparison_id, data.max_comparison_id) == (1, 5)
    same_text_other_prompt = from_comparisons([vote(1, "left"), vote(2, "left", prompt="Q")])
    assert len(same_text_other_prompt.items) == 4      # an item is a prompt and its output


def test_no_prompt_is_both_trained_on_and_held_out():
    data = marker_data(prompts=60, outputs=4)
    train, heldout = split_by_prompt(data, 0.2)
    assert train.pairs and heldout.pairs
    assert not train.prompts() & heldout.prompts()
    assert len(train.pairs) + len(heldout.pairs) == len(data.pairs)
    assert 0.05 < len(heldout.prompts()) / len(data.prompts()) < 0.4


def test_a_held_out_prompt_stays_held_out_as_data_grows():
    prompts = [f"prompt {i}" for i in range(200)]
    early = heldout_prompts(prompts[:50], 0.15)
    late = heldout_prompts(prompts, 0.15)
    assert early and early <= late
    assert heldout_prompts(["only one"], 0.15) == set()
    assert len(heldout_prompts(["one", "two"], 0.15)) == 1


def test_every_pair_lands_in_exactly_one_batch_within_the_size():
    data = marker_data(prompts=20, outputs=6)
    batches = group_batches(data, max_items=8, seed=1)
    assert all(len(b.items) <= 8 for b in batches)
    seen = Counter()
    for batch in batches:
        for left, right, target in batch.pairs:
            seen[(batch.items[left], batch.items[right], target)] += 1
    assert sum(seen.values()) == len(data.pairs)
    assert seen == Counter((p.left, p.right, p.target) for p in data.pairs)


def test_arena_shaped_data_encodes_each_output_far_fewer_times_than_pairwise():
    """One output meets many others: grouping scores it once per batch for all its pairs."""
    data = marker_data(prompts=4, outputs=16)           # 120 pairs per prompt
    batches = group_batches(data, max_items=32, seed=0)
    encodings = sum(len(b.items) for b in batches)
    assert encodings * 3 <= 2 * len(data.pairs)          # pairwise (TRL) encodes two per pair


def test_one_pair_per_prompt_fills_batches_like_a_pairwise_trainer():
    data = marker_data(prompts=64, outputs=2, ties=True)
    batches = group_batches(data, max_items=32, seed=0)
    assert [len(b.pairs) for b in batches] == [16] * 4


def test_batches_are_deterministic_for_a_seed():
    data = marker_data(prompts=10, outputs=5)
    first = group_batches(data, 10, seed=3)
    assert first == group_batches(data, 10, seed=3)
    assert first != group_batches(data, 10, seed=4)


def test_a_pairs_file_is_read_and_bad_lines_are_named(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"prompt": "P", "chosen": "good", "rejected": "bad"}) + "\n\n"
                    + json.dumps({"prompt": "Q", "chosen": "yes", "rejected": "no", "extra": 1}) + "\n")
    data = read_pairs_file(path)
    assert len(data.pairs) == 2 and all(p.target == 1.0 for p in data.pairs)
    path.write_text(json.dumps({"prompt": "P", "chosen": "good"}) + "\n")
    with pytest.raises(InputError, match="pairs.jsonl:1: missing field 'rejected'"):
        read_pairs_file(path)
    path.write_text(json.dumps({"prompt": "P", "chosen": "a", "rejected": "b"}) + "\n{oops\n")
    with pytest.raises(InputError, match="pairs.jsonl:2: not valid JSON"):
        read_pairs_file(path)
    with pytest.raises(InputError, match="no such file"):
        read_pairs_file(tmp_path / "missing.jsonl")


def test_the_held_out_prompts_are_the_exports_test_split():
    """One split hash: an export's `--split test=F` holds out the prompts the reward model holds
    out at `heldout_fraction = F`, so a model's held-out accuracy is measured on the test split."""
    from studio.exchange.split import Splitter

    prompts = [f"prompt number {i}: what is {i} times {i + 1}?" for i in range(400)]
    splitter = Splitter({"test": 0.15})
    exported = {p for p in prompts if splitter(p) == "test"}
    assert exported == heldout_prompts(prompts, 0.15)
    assert 30 < len(exported) < 90
