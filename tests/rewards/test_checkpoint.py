"""Checkpoints: atomic, self-describing, and the same scores after a reload in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from studio.rewards import checkpoint
from studio.rewards.model import load
from studio.rewards.net import build_net, make_spec
from studio.rewards.train import TrainSettings, train
from tests.rewards.helpers import marker_data

PROMPTS = ["question: red cat", "question: red cat", "another one"]
RESPONSES = ["the dog runs excellent", "the dog runs", "calm river song"]

RESCORE = """
import json, sys
from studio.rewards.model import load
paths, prompts, responses = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(json.dumps([load(path).score_batch(prompts, responses) for path in paths]))
"""


def trained(backbone: str, mode: str, **choices):
    data = marker_data(prompts=8, outputs=3)
    net = build_net(make_spec(backbone, mode=mode, max_length=32, **choices))
    return train(net, data, None, TrainSettings(epochs=1, batch_size=4, learning_rate=1e-2))


@pytest.mark.slow
def test_a_checkpoint_gives_the_same_scores_in_a_fresh_process(tiny_encoder, tmp_path):
    paths, here = [], []
    for name, mode, choices in [("head", "head", {}), ("full", "full", {}), ("lora", "full", {"lora_rank": 2})]:
        out = trained(tiny_encoder, mode, **choices)
        paths.append(str(checkpoint.save(out.net, tmp_path / name, metrics=out.metrics)))
        here.append(load(paths[-1]).score_batch(PROMPTS, RESPONSES))
        assert here[-1][0] != here[-1][1]
    result = subprocess.run([sys.executable, "-c", RESCORE, json.dumps(paths), json.dumps(PROMPTS),
                             json.dumps(RESPONSES)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    fresh = json.loads(result.stdout.strip().splitlines()[-1])
    for then, now in zip(here, fresh, strict=True):
        assert now == pytest.approx(then, abs=1e-5)


def test_the_checkpoint_config_says_what_the_model_is(tiny_encoder, tmp_path):
    out = trained(tiny_encoder, "head")
    path = checkpoint.save(out.net, tmp_path / "rm", metrics=out.metrics, data={"max_comparison_id": 42})
    config = json.loads((path / checkpoint.CONFIG_NAME).read_text())
    spec = config["spec"]
    assert (spec["backbone"], spec["kind"], spec["mode"], spec["max_length"]) == (tiny_encoder, "text", "head", 32)
    assert config["data"]["max_comparison_id"] == 42
    assert config["metrics"]["train_pairs"] == out.metrics["train_pairs"]
    assert {"torch", "transformers"} <= set(config["versions"])
    assert not (path / checkpoint.BACKBONE_DIR).exists()       # head mode names its frozen backbone
    assert sorted(p.name for p in path.iterdir()) == [checkpoint.HEAD_NAME, checkpoint.CONFIG_NAME]


def test_a_crash_while_saving_leaves_no_checkpoint(tiny_encoder, tmp_path, monkeypatch):
    out = trained(tiny_encoder, "full")

    def power_cut(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint, "_write_synced", power_cut)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.save(out.net, tmp_path / "rm", metrics={})
    assert list(tmp_path.iterdir()) == []                      # no half-written directory, no temp left
    with pytest.raises(FileExistsError):
        monkeypatch.undo()
        checkpoint.save(out.net, tmp_path / "rm", metrics={})
        checkpoint.save(out.net, tmp_path / "rm", metrics={})


def test_image_reward_models_score_images_and_reload(tiny_backbones, tmp_path):
    from PIL import Image

    from studio.rewards.data import _Builder

    builder = _Builder()
    paths = []
    for n, colour in enumerate(["red", "blue", "red", "blue", "red", "blue"]):
        path = tmp_path / f"{n}.png"
        Image.new("RGB", (40, 40), colour).save(path)
        paths.append(path)
        builder.item(f"prompt {n // 2}", image=str(path), digest=f"sha-{n}")
    for n in range(3):
        builder.pair(f"prompt {n}", 2 * n, 2 * n + 1, 1.0)
    for mode in ("head", "full"):
        net = build_net(make_spec(tiny_backbones["clip"], mode=mode))
        assert net.spec.kind == "image"
        out = train(net, builder.data, None, TrainSettings(epochs=2, batch_size=2, learning_rate=1e-2),
                    cache_root=tmp_path / "cache")
        saved = checkpoint.save(out.net, tmp_path / f"rm-{mode}", metrics=out.metrics)
        model = load(saved)
        scores = model.score_images("prompt 0", [str(paths[0]), Image.open(paths[1])])
        assert len(scores) == 2 and scores[0] > scores[1]
        with pytest.raises(Exception, match="scores images"):
            model.score("a prompt", "a response")
