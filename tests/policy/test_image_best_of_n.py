"""An image studio gets a contender its votes improve too: best-of-n over an image contender,
the image reward model (trained on the studio's image votes) picking among n images; through
the studio, a best-of-n image contender stores its image (falling back to its base's while
no image reward model has passed the activation gate)."""

from __future__ import annotations

import io

import pytest

from studio.config import ContenderSpec
from studio.generation.base import Request
from studio.generation.best_of_n import BestOfN
from tests.rewards.test_per_kind import add_image_votes


@pytest.mark.slow
def test_image_best_of_n_keeps_the_image_the_image_reward_model_scores_best(open_sqlite_studio, tiny_backbones,
                                                                           tmp_path):
    from PIL import Image

    from studio.generation.tiny import tiny_image_contender

    studio = open_sqlite_studio(image_backbone=tiny_backbones["clip"], epochs=1)
    add_image_votes(studio, prompts=4)
    version = studio.train_reward_model(kind="image", activate="never", progress=False)["version"]
    model = studio.registry.load(version)
    assert model.kind == "image"
    studio.add_contender(tiny_image_contender(tmp_path, steps=1))
    spec = ContenderSpec(name="sd-best", kind="image", backend="best_of_n", params={"base": "tiny-sd", "n": 3})

    def scorer(prompt, pngs):
        return model.score_images(prompt, [Image.open(io.BytesIO(png)).convert("RGB") for png in pngs])

    base = studio.generator("tiny-sd")
    best_of = BestOfN(spec, base, scorer)
    assert best_of.kind == "image"
    request = Request("a bright square", seed=5)
    chosen = best_of.generate([request])[0]
    samples = [o.image_png for o in base.generate(best_of.sample_requests(request))]
    scores = scorer(request.prompt, samples)
    assert chosen.image_png == samples[scores.index(max(scores))] and chosen.params["scores"] == scores

    studio.add_contender(spec)                       # through the studio: an image is stored either way
    prompt_id = studio.add_prompts(["a dark square"])[0]
    made = studio.generate("sd-best", [prompt_id], seed=5)
    row = studio.generations(contender="sd-best").set_index("id").loc[made[0]]
    assert row["media_path"].startswith("media/") and studio.artifacts.exists(row["media_path"])
    assert "scores" in row["params"] or "activation gate" in row["params"]["fallback"] \
        or "reward model" in row["params"]["fallback"]
