"""The activation gate (rewards/gate.py) and the fixed held-out set: a model no better than
chance or than length never steers; successive versions are measured on the same prompts."""

from __future__ import annotations

import json
import random

import pytest

from studio.rewards.gate import cluster_interval, decide
from studio.splits import assign_sides, prompt_hash
from tests.rewards.helpers import add_marker_votes, write_marker_pairs


def test_votes_sharing_a_prompt_widen_the_interval():
    """Ten pairs per prompt that agree with each other are not ten independent pairs."""
    rng = random.Random(0)
    values, prompts = [], []
    for p in range(30):
        right = rng.random() < 0.6
        values += [float(right)] * 10
        prompts += [f"p{p}"] * 10
    clustered = cluster_interval(values, prompts)
    independent = cluster_interval(values, [str(i) for i in range(len(values))])
    assert clustered.half_width > 2.5 * independent.half_width


def test_the_gate_wants_chance_length_and_the_best_so_far_beaten():
    prompts = [f"p{i // 4}" for i in range(80)]
    good = [1.0] * 70 + [0.0] * 10
    coin = [float(i % 2) for i in range(80)]
    assert decide(good, coin, prompts).passed
    chance = decide(coin, coin, prompts)
    assert not chance.passed and chance.reason.startswith("not better than chance")
    length_only = decide(good, good, prompts)
    assert not length_only.passed and length_only.reason == "not better than length"
    worse = decide([1.0, 1.0, 1.0, 0.0] * 20, coin, prompts, best=[1.0] * 80, best_version=2)
    assert worse.reason == "worse than the best so far (v2)" and not worse.passed
    assert not decide(good[:8], coin[:8], prompts[:8]).passed           # two prompts: cannot tell


def test_a_prompt_keeps_its_side_whatever_the_fraction_later():
    prompts = [f"prompt {i}" for i in range(200)]
    first = assign_sides(prompts[:100], 0.15)
    known = {prompt_hash(p): held for p, held in first.items()}
    later = assign_sides(prompts, 0.5, known)
    assert all(later[p] == first[p] for p in prompts[:100])
    assert 0.3 < sum(later[p] for p in prompts[100:]) / 100 < 0.7    # new prompts use the new fraction


@pytest.mark.slow
def test_a_model_on_shuffled_labels_is_never_activated(open_sqlite_studio, tmp_path):
    rng = random.Random(5)
    pairs = write_marker_pairs(tmp_path / "pairs.jsonl", prompts=60, seed=4)
    rows = [json.loads(line) for line in pairs.read_text().splitlines()]
    for row in rows:                                  # labels a coin decides
        if rng.random() < 0.5:
            row["chosen"], row["rejected"] = row["rejected"], row["chosen"]
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    held = write_marker_pairs(tmp_path / "eval.jsonl", prompts=30, seed=7)
    studio = open_sqlite_studio()
    for rule in ("if_better", "always"):
        metrics = studio.train_reward_model(pairs_file=pairs, eval_file=held, activate=rule, progress=False)
        assert metrics["activated"] is False and "not better than chance" in metrics["gate"]
    assert not studio.reward_models()["active"].any()


@pytest.mark.slow
def test_the_heldout_set_is_the_same_across_retrains(open_studio):
    """Different seeds and a changed heldout_fraction: the prompts already held out stay
    held out (the next version is measured on them too, and never trains on them)."""
    studio = open_studio(heldout_fraction=0.5)
    add_marker_votes(studio, prompts=16, seed=1)
    first_prompts = _prompt_texts(studio)
    studio.train_reward_model(progress=False, seed=3)
    first = _sides(studio, first_prompts)
    add_marker_votes(studio, prompts=6, seed=2)
    later = open_studio(heldout_fraction=0.1)
    later.train_reward_model(progress=False, seed=11)
    assert _sides(later, first_prompts) == first and any(first.values()) and not all(first.values())
    held_pairs = later.reward_models()["heldout_pairs"].tolist()
    assert held_pairs[1] >= held_pairs[0]


def _prompt_texts(studio) -> list[str]:
    return sorted(set(studio.generations()["prompt"]))


def _sides(studio, prompts) -> dict[str, bool]:
    with studio.store.reader() as tx:
        return tx.reward_models.heldout_assignments([prompt_hash(p) for p in prompts])
