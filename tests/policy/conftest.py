"""A studio with two text contenders on one tiny random GPT-2, outputs for a few prompts and
human-like votes on them (through `Studio.vote`), for the improvement tests."""

from __future__ import annotations

import pytest

from studio.contender_spec import ContenderSpec
from tests.rewards.conftest import open_sqlite_studio, tiny_backbones, tiny_encoder  # noqa: F401

# DPO settings that keep a run on the tiny model to a second or two.
FAST = {"max_steps": 2, "batch_size": 4, "max_length": 64, "max_prompt_length": 32}


@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory):
    from studio.generation.tiny import build_tiny_text_model

    return build_tiny_text_model(tmp_path_factory.mktemp("policy-models") / "gpt2")


def specs(model) -> list[ContenderSpec]:
    common = {"max_new_tokens": 6}
    return [ContenderSpec(name="tiny-a", model=str(model), params={**common, "temperature": 1.0}),
            ContenderSpec(name="tiny-b", model=str(model), params={**common, "temperature": 1.3})]


def open_voted_studio(data_dir, model, *, prompts: int = 6, queue_url: str | None = "immediate"):
    """A studio with votes on tiny-a vs tiny-b: mostly decisive (the longer answer wins),
    one tie and one both-bad."""
    from studio.api import Studio

    studio = Studio.open(data_dir, queue_url=queue_url)
    for spec in specs(model):
        studio.add_contender(spec)
    ids = studio.add_prompts([f"Say something about topic {i}." for i in range(prompts)])
    a = studio.generate("tiny-a", ids, n_per_prompt=2, seed=1)
    b = studio.generate("tiny-b", ids, n_per_prompt=2, seed=2)
    texts = dict(zip(studio.generations()["id"], studio.generations()["text"], strict=True))
    outcomes = []
    for index, (left, right) in enumerate(zip(a, b, strict=True)):
        outcome = "left" if len(texts[left]) >= len(texts[right]) else "right"
        outcome = {0: "tie", 1: "both_bad"}.get(index, outcome)
        studio.vote(left=left, right=right, outcome=outcome, rater=f"r{index % 3}", source="simulated")
        outcomes.append(outcome)
    return studio


@pytest.fixture
def voted_studio(tmp_path, tiny_gpt2):
    studio = open_voted_studio(tmp_path / "data", tiny_gpt2)
    yield studio
    studio.close()


@pytest.fixture(scope="module")
def improved(tmp_path_factory, tiny_gpt2):
    """A voted studio in which tiny-a@v2 was trained once (shared by a module's tests)."""
    studio = open_voted_studio(tmp_path_factory.mktemp("improved") / "data", tiny_gpt2)
    metrics = studio.improve("tiny-a", progress=False, **FAST)
    yield studio, metrics
    studio.close()
