"""A studio with text and image contenders trains one reward model per kind, each on that
kind's votes only, and keeps one active per kind (the training data's kind used to be read
from its first item, so the image votes were trained as text, or the text votes as images)."""

from __future__ import annotations

import io
import json
import random

import pytest

from studio.errors import InputError
from tests.rewards.helpers import add_marker_votes


def png(rng: random.Random, bright: bool) -> bytes:
    from PIL import Image

    base = rng.randint(170, 255) if bright else rng.randint(0, 80)
    image = Image.new("RGB", (32, 32), (base, base, rng.randint(0, 255)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def add_image_votes(studio, *, prompts: int = 8, seed: int = 0) -> list[int]:
    """Image outputs (bright or dark squares) and votes where the bright one wins."""
    from studio.records import GenerationIn

    rng = random.Random(seed)
    contender = studio.add_contender({"name": f"painter-{seed}", "kind": "image", "backend": "external"})
    ids = []
    for prompt_id in studio.add_prompts([f"draw thing {seed}-{n}" for n in range(prompts)]):
        made = []
        for bright in (True, False, True, False):
            key, digest = studio.artifacts.put_media(png(rng, bright))
            made.append((GenerationIn(prompt_id=prompt_id, contender_id=contender.id, media_path=key,
                                      content_sha256=digest), bright))
        generation_ids = studio.add_generations([g for g, _ in made])
        for i in range(len(made)):
            for j in range(i + 1, len(made)):
                if made[i][1] != made[j][1]:
                    ids.append(studio.vote(outcome="left" if made[i][1] else "right", rater="eye",
                                           left=generation_ids[i], right=generation_ids[j]).comparison.id)
    return ids


@pytest.fixture
def mixed(open_studio, tiny_backbones):
    studio = open_studio(image_backbone=tiny_backbones["clip"], epochs=1, heldout_fraction=0.5)
    text_votes = add_marker_votes(studio, prompts=16)      # enough held-out prompts for the gate to tell
    image_votes = add_image_votes(studio, prompts=16)
    return studio, len(text_votes), len(image_votes)


@pytest.mark.slow
def test_each_kind_trains_on_its_own_votes_and_is_active_for_its_kind(mixed):
    studio, text_votes, image_votes = mixed
    with pytest.raises(InputError, match="votes are on text and on image outputs: train one reward model per kind"):
        studio.train_reward_model(progress=False)
    text = studio.train_reward_model(kind="text", progress=False)
    image = studio.train_reward_model(kind="image", progress=False)
    assert text["kind"] == "text" and text["train_pairs"] + text["heldout_pairs"] == text_votes
    assert image["kind"] == "image" and image["train_pairs"] + image["heldout_pairs"] == image_votes
    models = studio.reward_models()
    assert list(models[["version", "kind", "active"]].itertuples(index=False, name=None)) == \
        [(1, "text", True), (2, "image", True)]                  # one active model per kind
    assert studio.registry.active_record("text").version == 1
    assert studio.registry.active_record("image").version == 2
    assert studio.reward_model().version == 1                    # "active" is the text model first


def test_pairs_of_mixed_kinds_are_refused_rather_than_read_by_their_first_item():
    from studio.rewards.data import _Builder

    builder = _Builder()
    text = builder.item("p", text="an answer")
    image = builder.item("p", image="/x.png", digest="abc")
    other = builder.item("p", image="/y.png", digest="def")
    builder.pair("p", text, image, 1.0)
    builder.pair("p", image, other, 0.0)
    data = builder.data
    assert data.kinds == {"text", "image"}
    with pytest.raises(InputError, match="mix text and image"):
        _ = data.kind
    assert data.of_kind("image").kind == "image" and len(data.of_kind("image").pairs) == 1
    assert data.of_kind("text").pairs == []                     # a text-image pair belongs to neither


@pytest.mark.slow
def test_automatic_retraining_trains_each_kind_when_its_votes_arrive(open_sqlite_studio, tiny_backbones):
    studio = open_sqlite_studio(queue_url="immediate", retrain_every=12, image_backbone=tiny_backbones["clip"],
                                epochs=1)
    add_marker_votes(studio, prompts=4)                          # 16 text votes: the text model trains
    assert studio.reward_models()["kind"].tolist() == ["text"]
    add_image_votes(studio, prompts=3)                           # 12 image votes: the image model trains
    models = studio.reward_models()
    assert models["kind"].tolist() == ["text", "image"]
    # 4 and 3 prompts leave too few held-out prompts for the activation gate to tell: kept, not used
    assert models["active"].tolist() == [False, False]
    assert all(gate.startswith("too few held-out prompts") for gate in models["gate"])
    assert [job["kind"] for job in studio.jobs()["payload"].iloc[::-1]] == ["text", "image"]
    assert studio.retrain.votes_until_retrain("image") == 12


@pytest.mark.slow
def test_studio_train_takes_the_kind(open_sqlite_studio, tiny_backbones):
    from tests.reliability.cli import run_cli

    studio = open_sqlite_studio(epochs=1)
    add_marker_votes(studio, prompts=3)
    image_votes = add_image_votes(studio, prompts=4)
    code, out, err = run_cli(["train", "--kind", "image", "--backbone", tiny_backbones["clip"], "--json"],
                             studio.config.data_dir)
    assert code == 0, err
    metrics = json.loads(out)
    assert metrics["kind"] == "image" and metrics["train_pairs"] + metrics["heldout_pairs"] == len(image_votes)
    code, out, err = run_cli(["train"], studio.config.data_dir)
    assert code != 0 and "--kind" in err and err.count("\n") == 1
