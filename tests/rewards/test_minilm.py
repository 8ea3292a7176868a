"""The offline default backbone (all-MiniLM-L6-v2) learns a preference from votes."""

from __future__ import annotations

import pytest

from tests.rewards.helpers import MARKER, add_marker_votes


@pytest.mark.slow
def test_minilm_learns_that_raters_prefer_the_marker_word(tmp_path):
    from studio.api import Studio
    from studio.config import TrainingConfig

    with Studio.open(tmp_path / "data", queue_url="immediate",
                     training=TrainingConfig(retrain_every=0, max_length=64)) as studio:
        # 60 prompts: about 8 held out; with 40 the held-out accuracy swings between 89% and
        # 100% with which six prompts the split happens to hold out.
        add_marker_votes(studio, prompts=60, outputs=4)
        metrics = studio.train_reward_model(progress=False)
        assert metrics["heldout_pairs"] >= 16
        assert metrics["heldout_accuracy"] > 0.95
        model = studio.reward_model()
        assert model.spec.backbone == "all-minilm-l6-v2" and model.spec.mode == "head"
        assert model.score("Describe your day.", f"It was an {MARKER} walk by the river.") > \
            model.score("Describe your day.", "It was a walk by the river.")
