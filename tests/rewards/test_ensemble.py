"""An ensemble of heads on bootstrap resamples gives every score a spread."""

from __future__ import annotations

import pytest

from studio.rewards.data import split_by_prompt
from studio.rewards.net import build_net, make_spec
from studio.rewards.train import TrainSettings, score_with_spread, train
from tests.rewards.helpers import MARKER, marker_data


@pytest.mark.slow
def test_an_ensemble_scores_with_a_spread_and_still_learns(tiny_encoder, tmp_path):
    from studio.rewards import checkpoint
    from studio.rewards.model import load

    data, heldout = split_by_prompt(marker_data(prompts=24, outputs=4), 0.25)
    net = build_net(make_spec(tiny_encoder, max_length=48, ensemble=4))
    out = train(net, data, heldout, TrainSettings(head_min_steps=60), cache_root=tmp_path)
    assert out.metrics["ensemble"] == 4 and out.metrics["heldout_accuracy"] > 0.75
    rewards, spread = score_with_spread(out.net, heldout.items)
    assert spread is not None and spread.shape == rewards.shape and (spread > 0).all()
    checkpoint.save(out.net, tmp_path / "rm", metrics=out.metrics, data={})
    model = load(tmp_path / "rm", cache_root=tmp_path)
    reward, width = model.score("question: x", f"the cat {MARKER}", spread=True)
    assert width is not None and width > 0 and reward == pytest.approx(model.score("question: x", f"the cat {MARKER}"))
    single = build_net(make_spec(tiny_encoder, max_length=48))
    assert score_with_spread(single, heldout.items[:2])[1] is None
