"""The training loop on tiny real models: it learns, it is deterministic, it stops when asked,
and head mode reuses cached embeddings instead of recomputing them."""

from __future__ import annotations

import pytest
import torch

from studio.rewards.data import split_by_prompt
from studio.rewards.embeddings import EmbeddingCache
from studio.rewards.net import build_net, make_spec
from studio.rewards.train import (
    TrainingCancelled,
    TrainSettings,
    embedding_cache,
    score_items,
    shard,
    train,
)
from tests.rewards.helpers import marker_data


def snapshot(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def changed(before: dict[str, torch.Tensor], module: torch.nn.Module) -> int:
    return sum(not torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_full_mode_lowers_the_loss_and_changes_the_backbone(tiny_encoder):
    data = marker_data(prompts=24, outputs=4)
    net = build_net(make_spec(tiny_encoder, mode="full", max_length=48))
    before = snapshot(net.backbone)
    out = train(net, data, None, TrainSettings(epochs=4, batch_size=8, learning_rate=3e-3))
    assert out.metrics["loss"] < out.metrics["first_epoch_loss"]
    assert changed(before, out.net.backbone) > 0
    assert out.metrics["steps"] > 4 and out.metrics["pairs_per_s"] > 0


def test_full_mode_reports_heldout_accuracy_after_each_epoch_without_changing_the_model(tiny_encoder):
    """Whether another epoch still helps is what a user of a slow full fine-tune wants to
    know; measuring it between epochs must not change what is trained (dropout, order)."""
    data, heldout = split_by_prompt(marker_data(prompts=24, outputs=4), 0.25)
    settings = TrainSettings(epochs=3, batch_size=8, learning_rate=3e-3)
    watched = train(build_net(make_spec(tiny_encoder, mode="full", max_length=48)), data, heldout, settings)
    unwatched = train(build_net(make_spec(tiny_encoder, mode="full", max_length=48)), data, None, settings)
    per_epoch = watched.metrics["epoch_heldout_accuracy"]
    assert len(per_epoch) == 3 and per_epoch[-1] == watched.metrics["heldout_accuracy"]
    assert all(0.0 <= a <= 1.0 for a in per_epoch)
    assert "epoch_heldout_accuracy" not in unwatched.metrics
    same = snapshot(unwatched.net)
    assert changed(same, watched.net) == 0


def test_head_mode_trains_only_the_head_and_learns_the_marker(tiny_encoder, tmp_path):
    data = marker_data(prompts=40, outputs=4)
    train_data, heldout = split_by_prompt(data, 0.25)
    net = build_net(make_spec(tiny_encoder, mode="head", max_length=48))
    backbone, head = snapshot(net.backbone), snapshot(net.head)
    out = train(net, train_data, heldout, TrainSettings(learning_rate=1e-2), cache_root=tmp_path)
    assert changed(backbone, out.net.backbone) == 0
    assert changed(head, out.net.head) > 0
    assert out.metrics["loss"] < out.metrics["first_epoch_loss"]
    assert out.metrics["heldout_accuracy"] > 0.8 and out.metrics["heldout_pairs"] > 0


def test_head_mode_embeds_each_output_once_across_trainings(tiny_encoder, tmp_path):
    data = marker_data(prompts=10, outputs=4)
    net = build_net(make_spec(tiny_encoder, mode="head", max_length=48))
    calls = []
    original = net.embed

    def counting(view, prepared, positions):
        calls.append(len(positions))
        return original(view, prepared, positions)

    net.embed = counting
    once = len(data.items) + len(data.prompts())      # each output, and each prompt once
    train(net, data, None, TrainSettings(), cache_root=tmp_path)
    assert sum(calls) == once
    train(net, data, None, TrainSettings(seed=1), cache_root=tmp_path)     # a later retrain
    assert sum(calls) == once
    cache = embedding_cache(tmp_path, net)
    assert len(EmbeddingCache(cache.directory)) == once                    # stored on disk


def test_the_same_seed_gives_the_same_model(tiny_encoder):
    data = marker_data(prompts=12, outputs=3)
    scores = []
    for _ in range(2):
        net = build_net(make_spec(tiny_encoder, mode="full", max_length=32))
        torch.manual_seed(123)  # the trainer seeds itself: what happens before must not matter
        torch.nn.init.normal_(net.head.layers[-1].weight)
        out = train(net, data, None, TrainSettings(epochs=1, batch_size=4, seed=7))
        scores.append(score_items(out.net, data.items[:6]))
    assert torch.allclose(scores[0], scores[1])


def test_a_stop_request_ends_training_at_the_next_step(tiny_encoder):
    data = marker_data(prompts=12, outputs=4)
    net = build_net(make_spec(tiny_encoder, mode="full", max_length=32))
    steps = []
    with pytest.raises(TrainingCancelled):
        train(net, data, None, TrainSettings(epochs=5, batch_size=4),
              progress=lambda p: steps.append(p.step) if p.phase == "training" else None,
              should_stop=lambda: len(steps) >= 2)
    assert steps == [1, 2]


def test_progress_reports_steps_and_an_eta(tiny_encoder):
    data = marker_data(prompts=8, outputs=3)
    seen = []
    net = build_net(make_spec(tiny_encoder, mode="full", max_length=32))
    train(net, data, None, TrainSettings(epochs=2, batch_size=4), progress=seen.append)
    training = [p for p in seen if p.phase == "training"]
    assert [p.step for p in training] == list(range(1, training[0].total_steps + 1))
    assert training[-1].eta_s == 0 and training[0].eta_s >= 0


@pytest.mark.parametrize("architecture", ["seqcls", "decoder"])
def test_classifier_and_decoder_backbones_train_and_score(tiny_backbones, architecture):
    data = marker_data(prompts=10, outputs=3)
    spec = make_spec(tiny_backbones[architecture], mode="full", max_length=40)
    assert spec.architecture == architecture
    net = build_net(spec)
    assert net.tokenizer.pad_token is not None            # decoders without one get one
    before = snapshot(net.backbone)
    out = train(net, data, None, TrainSettings(epochs=1, batch_size=4, learning_rate=1e-3))
    assert changed(before, out.net.backbone) > 0
    rewards = score_items(out.net, data.items[:4])
    assert rewards.shape == (4,) and torch.isfinite(rewards).all()


def test_lora_trains_adapters_and_leaves_the_base_weights(tiny_encoder):
    data = marker_data(prompts=10, outputs=3)
    net = build_net(make_spec(tiny_encoder, mode="full", max_length=32, lora_rank=4))
    originals = [(p, p.detach().clone()) for p in net.backbone.parameters()]   # the same objects after wrapping
    out = train(net, data, None, TrainSettings(epochs=1, batch_size=4, learning_rate=1e-3))
    adapters = {k: v for k, v in out.net.backbone.state_dict().items() if "lora_B" in k}
    assert adapters and any(v.abs().sum() > 0 for v in adapters.values())      # B starts at zero
    assert all(torch.equal(param, before) for param, before in originals)


@pytest.mark.parametrize("world", [2, 3, 4])
def test_processes_share_every_batch_in_equal_steps(world):
    """Data-parallel training: each process takes the same number of steps (or the gradient
    averaging would hang), and no batch of the epoch is left out when they do not divide evenly."""
    for count in range(1, 12):
        batches = list(range(count))
        shares = [shard(batches, world, rank) for rank in range(world)]
        assert len({len(share) for share in shares}) == 1, (count, shares)
        assert set().union(*shares) == set(batches), (count, shares)
        assert len(shares[0]) == -(-count // world)


def test_lora_with_train_layers_adapts_only_the_top_layers(tiny_backbones):
    data = marker_data(prompts=10, outputs=3)
    net = build_net(make_spec(tiny_backbones["decoder"], mode="full", max_length=40, lora_rank=4, train_layers=1))
    out = train(net, data, None, TrainSettings(epochs=1, batch_size=4, learning_rate=1e-3))
    adapters = [k for k in out.net.backbone.state_dict() if "lora_A" in k]
    assert adapters and all(".layers.1." in k for k in adapters)             # the tiny decoder has layers 0 and 1
    assert torch.isfinite(score_items(out.net, data.items[:4])).all()


def test_full_mode_trains_in_bfloat16_where_the_hardware_multiplies_it_natively(tiny_encoder):
    from studio.rewards.full_trainer import FullConfig
    from studio.rewards.net import cpu_has_native_bf16

    data = marker_data(prompts=12, outputs=3)
    default = train(build_net(make_spec(tiny_encoder, mode="full", max_length=32)), data, None,
                    TrainSettings(epochs=2, batch_size=4, learning_rate=3e-3))
    assert default.metrics["precision"] == ("bfloat16" if cpu_has_native_bf16() else "float32")
    for bf16, precision in ((True, "bfloat16"), (False, "float32")):
        out = train(build_net(make_spec(tiny_encoder, mode="full", max_length=32)), data, None,
                    FullConfig(epochs=2, batch_size=4, learning_rate=3e-3, bf16=bf16))
        assert out.metrics["precision"] == precision
        assert out.metrics["loss"] < out.metrics["first_epoch_loss"]


def test_a_model_trained_in_bfloat16_scores_as_its_checkpoint_reloads(tiny_encoder, tmp_path):
    """Training in bfloat16 is autocast around the forward pass; the model it returns (whose
    held-out accuracy is reported, which best-of-n scores with in the worker) must score in
    float32, as the saved checkpoint does when it is loaded again."""
    from studio.rewards import checkpoint
    from studio.rewards.full_trainer import FullConfig

    data, heldout = split_by_prompt(marker_data(prompts=16, outputs=3), 0.25)
    out = train(build_net(make_spec(tiny_encoder, mode="full", max_length=32)), data, heldout,
                FullConfig(epochs=1, batch_size=4, learning_rate=3e-3, bf16=True))
    checkpoint.save(out.net, tmp_path / "rm", metrics=out.metrics)
    reloaded, _ = checkpoint.load_net(tmp_path / "rm")
    expected = pytest.approx(score_items(reloaded, heldout.items).tolist(), abs=1e-6)
    assert score_items(out.net, heldout.items).tolist() == expected
    assert out.heldout_rewards.tolist() == expected
    with torch.no_grad():     # the forward pass training went through, without its autocast
        called = out.net(out.net.prepare(heldout.items), range(len(heldout.items)))
    assert called.tolist() == expected


def test_a_head_trained_after_a_bfloat16_fine_tune_scores_as_its_checkpoint_reloads(tiny_encoder, tmp_path):
    """A worker trains full-mode (bfloat16) and head-mode models one after the other; the head
    must not inherit the earlier training's autocast, or the accuracy it reports and the scores
    best-of-n uses differ from what its checkpoint gives when loaded again."""
    from studio.rewards import checkpoint
    from studio.rewards.full_trainer import FullConfig

    data, heldout = split_by_prompt(marker_data(prompts=16, outputs=3), 0.25)
    train(build_net(make_spec(tiny_encoder, mode="full", max_length=32)), data, None,
          FullConfig(epochs=1, batch_size=4, learning_rate=3e-3, bf16=True))
    head = train(build_net(make_spec(tiny_encoder, mode="head", max_length=32)), data, heldout,
                 TrainSettings(epochs=1, batch_size=4, learning_rate=1e-3))
    checkpoint.save(head.net, tmp_path / "rm", metrics=head.metrics)
    reloaded, _ = checkpoint.load_net(tmp_path / "rm")
    assert score_items(head.net, heldout.items).tolist() == pytest.approx(
        score_items(reloaded, heldout.items).tolist(), abs=1e-6)


def test_full_mode_trains_in_the_precision_asked_whatever_trained_before_in_the_process(tiny_encoder):
    """A worker runs DPO jobs (TRL's Trainer, bfloat16) and reward-model trainings in one
    process; Accelerate keeps one state per process, and a trainer after a DPO job must not
    inherit its precision."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    from studio.rewards.full_trainer import FullConfig

    data = marker_data(prompts=12, outputs=3)
    config = FullConfig(epochs=1, batch_size=4, learning_rate=3e-3, bf16=False)
    clean = train(build_net(make_spec(tiny_encoder, mode="full", max_length=32)), data, None, config)
    AcceleratorState._reset_state()                         # as TRL's TrainingArguments does, then its Trainer:
    Accelerator(mixed_precision="bf16", cpu=True)           # what a DPO job leaves in the process
    after = train(build_net(make_spec(tiny_encoder, mode="full", max_length=32)), data, None, config)
    assert after.metrics["precision"] == "float32"
    assert changed(snapshot(clean.net), after.net) == 0
