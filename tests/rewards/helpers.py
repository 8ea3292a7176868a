"""Synthetic preference data for reward-model tests: raters prefer outputs containing a
marker word, so a model that learns the rule is easy to recognise. The other outputs carry
a filler word of the marker's length instead, so "the longer answer wins" is no better than
chance on this data and a model passes the activation gate only by learning the marker."""

from __future__ import annotations

import json
import random
from pathlib import Path

from studio.rewards.data import PreferenceData, _Builder

MARKER = "excellent"
FILLER = "something"          # as long as MARKER: the sides' lengths tell nothing
WORDS = ("the cat dog runs fast slow red blue green happy sad tree river song book rain sun "
         "moon city road music film art small big long short calm loud").split()


def sentence(rng: random.Random, low: int = 4, high: int = 10) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def marker_outputs(rng: random.Random, n: int) -> list[tuple[str, bool]]:
    """n outputs, about half with the marker word somewhere inside."""
    outputs = []
    for index in range(n):
        words = sentence(rng).split()
        good = index % 2 == 1
        words.insert(rng.randint(0, len(words)), MARKER if good else FILLER)
        outputs.append((" ".join(words), good))
    rng.shuffle(outputs)
    return outputs


def marker_data(prompts: int = 30, outputs: int = 4, seed: int = 0, ties: bool = True) -> PreferenceData:
    """Every pair of outputs per prompt; the marker side wins, equal sides tie."""
    rng = random.Random(seed)
    builder = _Builder()
    for p in range(prompts):
        prompt = f"question {p}: " + sentence(rng, 3, 6)
        made = [(builder.item(prompt, text=t), good) for t, good in marker_outputs(rng, outputs)]
        for i in range(len(made)):
            for j in range(i + 1, len(made)):
                (a, good_a), (b, good_b) = made[i], made[j]
                if good_a == good_b:
                    if ties:
                        builder.pair(prompt, a, b, 0.5)
                    continue
                builder.pair(prompt, a, b, 1.0 if good_a else 0.0)
    return builder.data


def write_marker_pairs(path: Path, *, prompts: int, seed: int, reverse: bool = False) -> Path:
    """A TRL-style prompt/chosen/rejected file following the marker rule (or against it)."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as handle:
        for p in range(prompts):
            prompt = f"task {seed}-{p}: " + sentence(rng, 3, 6)
            good = sentence(rng).split()
            good.insert(rng.randint(0, len(good)), MARKER)
            bad = sentence(rng).split()
            bad.insert(rng.randint(0, len(bad)), FILLER)
            chosen, rejected = " ".join(good), " ".join(bad)
            if reverse:
                chosen, rejected = rejected, chosen
            handle.write(json.dumps({"prompt": prompt, "chosen": chosen, "rejected": rejected}) + "\n")
    return path


def add_marker_votes(studio, *, prompts: int = 12, outputs: int = 4, seed: int = 0, rounds: int = 1,
                     rater: str = "rater") -> list[int]:
    """Prompts, an external contender's outputs and decisive votes (marker wins) in a studio;
    each vote goes through `Studio.vote`, so the retrain trigger sees every one."""
    from studio.records import GenerationIn

    rng = random.Random(seed)
    contender = studio.add_contender({"name": f"ext-{seed}", "backend": "external"})
    prompt_ids = studio.add_prompts([f"prompt {seed}-{i}: " + sentence(rng, 3, 6) for i in range(prompts)])
    comparison_ids = []
    for prompt_id in prompt_ids:
        made = marker_outputs(rng, outputs)
        ids = studio.add_generations([GenerationIn(prompt_id=prompt_id, contender_id=contender.id, text=t)
                                      for t, _ in made])
        pairs = [(ids[i], made[i][1], ids[j], made[j][1]) for i in range(len(ids)) for j in range(i + 1, len(ids))]
        for r in range(rounds):
            for left, good_left, right, good_right in pairs:
                if good_left == good_right:
                    continue
                result = studio.vote(outcome="left" if good_left else "right", rater=f"{rater}{r}",
                                     left=left, right=right)
                comparison_ids.append(result.comparison.id)
    return comparison_ids
