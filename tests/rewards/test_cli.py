"""`studio train`, `studio score`, `studio reward-models` and `studio jobs` on the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from studio.commands import load_all
from studio.errors import NotFoundError
from tests.rewards.helpers import MARKER, write_marker_pairs


def run(*args: str) -> str:
    result = CliRunner().invoke(load_all(), list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_train_then_score_then_list(tmp_path, tiny_encoder):
    data = str(tmp_path / "data")
    pairs = write_marker_pairs(tmp_path / "pairs.jsonl", prompts=40, seed=1)
    held = write_marker_pairs(tmp_path / "eval.jsonl", prompts=20, seed=2)
    metrics = json.loads(run("train", "--data", data, "--pairs", str(pairs), "--eval", str(held),
                             "--backbone", tiny_encoder, "--max-length", "48", "--json"))
    assert metrics["version"] == 1 and metrics["activated"] is True, metrics
    assert metrics["heldout_pairs"] == 20 and metrics["heldout_accuracy"] > 0.7
    assert metrics["train_pairs"] == 40 and metrics["pairs_per_s"] > 0 and metrics["wall_s"] > 0
    table = run("train", "--data", data, "--pairs", str(pairs), "--eval", str(held), "--backbone", tiny_encoder,
                "--max-length", "48", "--max-pairs", "10", "--activate", "never", "--mode", "full", "--epochs", "2")
    assert "heldout_accuracy" in table and "version" in table
    per_epoch = next(line for line in table.splitlines() if line.startswith("epoch_heldout_accuracy"))
    assert len(per_epoch.split()[1:]) == 2, table    # after each of the 2 epochs, as "0.55, 0.6"
    better = float(run("score", "--data", data, "--prompt", "task: x", "--response", f"a cat {MARKER}").strip())
    worse = float(run("score", "--data", data, "--prompt", "task: x", "--response", "a cat").strip())
    assert better > worse
    scored = json.loads(run("score", "--data", data, "-p", "task: x", "-r", "one", "-r", "two", "--version", "2",
                            "--json"))
    assert scored["version"] == 2 and len(scored["scores"]) == 2
    versions = json.loads(run("reward-models", "--data", data, "--json"))
    assert [(v["version"], v["active"]) for v in versions] == [(1, True), (2, False)]
    # by hand, a version activates only if it passed the activation gate; otherwise one line
    from studio.errors import InputError

    if versions[1]["gate"] == "passed":
        assert json.loads(run("reward-models", "--data", data, "--activate", "2", "--json"))[1]["active"] is True
    else:
        with pytest.raises(InputError, match="v2 cannot be activated: did not pass the activation gate"):
            run("reward-models", "--data", data, "--activate", "2", "--json")
    jobs = json.loads(run("jobs", "--data", data, "--json"))
    assert [j["status"] for j in jobs] == ["done", "done"]


def test_background_training_queues_a_job_and_cancel_stops_it(tmp_path, tiny_encoder):
    data = str(tmp_path / "data")
    assert "job 1: queued" in run("train", "--data", data, "--background", "--backbone", tiny_encoder)
    assert "job 1: queued" in run("train", "--data", data, "--background")        # never two at once
    assert "job 1: cancelled" in run("jobs", "cancel", "1", "--data", data)
    listed = run("jobs", "--data", data)
    assert "cancelled" in listed and "train_reward_model" in listed


def test_scoring_without_a_model_says_what_to_do(tmp_path):
    with pytest.raises(NotFoundError, match="no active reward model yet: train one"):
        CliRunner().invoke(load_all(), ["score", "--data", str(tmp_path / "d"), "-p", "x", "-r", "y"],
                           catch_exceptions=False)


def test_features_build_embeds_a_pairs_file_once_and_then_finds_it_cached(tmp_path, tiny_backbones):
    data = str(tmp_path / "data")
    pairs = write_marker_pairs(tmp_path / "pairs.jsonl", prompts=6, seed=4)
    first = json.loads(run("features", "build", "--data", data, "--backbone", tiny_backbones["decoder"],
                           "--pairs", str(pairs), "--max-length", "32", "--json"))
    assert (first["items"], first["vectors"], first["embedded"]) == (12, 18, 18)
    table = run("features", "build", "--data", data, "--backbone", tiny_backbones["decoder"],
                "--pairs", str(pairs), "--max-length", "32")
    assert "cached_before" in table and " 18" in table.split("cached_before")[1].splitlines()[0]
    assert "embedded" in table and table.split("embedded")[1].splitlines()[0].split()[0] == "0"


def test_train_with_a_hidden_layer_head_saves_it_and_a_negative_size_is_refused(tmp_path, tiny_encoder):
    from studio.api import Studio

    data = str(tmp_path / "data")
    pairs = write_marker_pairs(tmp_path / "pairs.jsonl", prompts=20, seed=3)
    metrics = json.loads(run("train", "--data", data, "--pairs", str(pairs), "--eval", str(pairs),
                             "--backbone", tiny_encoder, "--max-length", "32", "--head-hidden", "16", "--json"))
    with Studio.open(data) as studio:
        model = studio.reward_model(metrics["version"])
        assert model.spec.head_hidden == 16
        assert [layer.out_features for layer in model.net.head.layers if hasattr(layer, "out_features")] == [16, 1]
    refused = CliRunner().invoke(load_all(), ["train", "--data", data, "--pairs", str(pairs), "--head-hidden", "-1"])
    assert refused.exit_code != 0 and "--head-hidden" in refused.output
    from studio.errors import InputError
    from studio.services.training_request import TrainingRequest
    with pytest.raises(InputError, match="head_hidden must be 0"):
        TrainingRequest.of(head_hidden=-2)


def test_train_full_with_lora_on_the_top_layers_from_the_command_line(tmp_path, tiny_backbones):
    from studio.api import Studio

    data = str(tmp_path / "data")
    pairs = write_marker_pairs(tmp_path / "pairs.jsonl", prompts=8, seed=5)
    metrics = json.loads(run("train", "--data", data, "--pairs", str(pairs), "--eval", str(pairs), "--mode", "full",
                             "--backbone", tiny_backbones["decoder"], "--max-length", "32", "--lora-rank", "2",
                             "--train-layers", "1", "--json"))
    assert metrics["precision"] in ("float32", "bfloat16")
    with Studio.open(data) as studio:
        model = studio.reward_model(metrics["version"])
        assert (model.spec.lora_rank, model.spec.train_layers) == (2, 1)
        adapted = [name for name, _ in model.net.backbone.named_parameters() if "lora_A" in name]
        assert adapted and all(".layers.1." in name for name in adapted)
    refused = CliRunner().invoke(load_all(), ["train", "--data", data, "--pairs", str(pairs), "--train-layers", "1"])
    assert refused.exit_code != 0 and "add mode full (--mode full)" in str(refused.exception or refused.output)
