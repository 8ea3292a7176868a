"""An image studio gets a contender its votes improve too: best-of-n over an image contender,
with the active image reward model (trained on the studio's image votes) picking."""

from __future__ import annotations

import pytest

from studio.contender_spec import ContenderSpec
from tests.rewards.test_per_kind import add_image_votes


@pytest.mark.slow
def test_image_best_of_n_keeps_the_image_the_active_image_reward_model_scores_best(open_sqlite_studio,
                                                                                  tiny_backbones, tmp_path):
    from studio.generation.tiny import tiny_image_contender

    studio = open_sqlite_studio(image_backbone=tiny_backbones["clip"], epochs=1, heldout_fraction=0.5)
    add_image_votes(studio, prompts=16)        # 8 held-out prompts: enough for the activation gate
    metrics = studio.train_reward_model(kind="image", progress=False)
    version = metrics["version"]
    assert metrics["activated"], metrics.get("gate")
    studio.add_contender(tiny_image_contender(tmp_path, steps=1))
    studio.add_contender(ContenderSpec(name="sd-best", kind="image", backend="best_of_n",
                                       params={"base": "tiny-sd", "n": 3}))
    prompt_id = studio.add_prompts(["a bright square"])[0]
    made = studio.generate("sd-best", [prompt_id], seed=5)
    row = studio.generations(contender="sd-best").set_index("id").loc[made[0]]
    scores = row["params"]["scores"]
    assert len(scores) == 3 and scores[row["params"]["chosen"]] == max(scores)
    assert row["media_path"].startswith("media/") and studio.artifacts.exists(row["media_path"])
    model = studio.reward_model(version)
    assert model.kind == "image"
    again = model.score_images("a bright square", [str(studio.artifacts.path(row["media_path"]))])[0]
    assert again == pytest.approx(max(scores), abs=1e-4)
