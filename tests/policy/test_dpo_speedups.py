"""The studio's two DPO speed-ups change nothing but the time: the CPU completion head gives
TRL's fused head's log-probs, metrics and gradients; the lower-layer cache gives the states
the layers would have computed, steps aside where reuse could be wrong, and a DPO run with
both learns what a run without them learns."""

from __future__ import annotations

import pytest
import torch

from studio.policy.completion_head import install_completion_head
from studio.policy.config import DPOSettings
from studio.policy.lower_layers import LowerLayerCache
from studio.policy.pairs import Pair
from tests.policy.conftest import FAST


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory):
    from studio.generation.tiny import build_tiny_text_model

    return build_tiny_text_model(tmp_path_factory.mktemp("speedup-models") / "llama", arch="llama", seed=3)


def load(directory):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(directory), dtype=torch.float32)


def right_padded(rows: list[list[int]], *, width: int | None = None, pad: int = 0):
    width = width or max(map(len, rows))
    ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows])
    mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows])
    return ids, mask


def test_the_completion_head_gives_trls_log_probs_metrics_and_gradients(tiny_llama):
    from trl.trainer.utils import add_fused_lm_head

    model = load(tiny_llama)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "mean_logits", "is_top1"))
    ids, mask = right_padded([[5, 9, 17, 30, 41, 2], [5, 9, 12, 2], [7, 8, 9, 10, 11, 12, 13, 2]])
    labels = ids.masked_fill((mask == 0) | (torch.arange(ids.shape[1]) < 3), -100)   # prompt: 3 tokens
    weight = model.model.layers[-1].mlp.down_proj.weight

    def run():
        weight.grad = None
        out = model(input_ids=ids, attention_mask=mask, labels=labels, fused_lm_head=True)
        (out.log_probs.sum() * 0.5).backward()
        return out, weight.grad.clone()

    trl_out, trl_grad = run()
    assert install_completion_head(model)
    ours, our_grad = run()
    counted = labels[:, 1:] != -100
    assert torch.equal(ours.label_mask, counted)
    for name in ("log_probs", "entropy", "mean_logits"):
        torch.testing.assert_close(getattr(ours, name), getattr(trl_out, name), atol=1e-5, rtol=1e-5)
        assert (getattr(ours, name)[~counted] == 0).all()
    assert torch.equal(ours.is_top1, trl_out.is_top1)
    torch.testing.assert_close(ours.loss, trl_out.loss, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(our_grad, trl_grad, atol=1e-6, rtol=1e-4)
    assert model(input_ids=ids, attention_mask=mask).logits.shape[-1] == model.config.vocab_size


def test_the_completion_head_leaves_a_model_that_soft_caps_its_logits_to_trl(tiny_llama):
    model = load(tiny_llama)
    model.config.final_logit_softcapping = 30.0
    before = model.forward
    assert not install_completion_head(model)
    assert model.forward == before


def lora(model, layers):
    from peft import LoraConfig, get_peft_model

    return get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"],
                                            layers_to_transform=layers, task_type="CAUSAL_LM",
                                            init_lora_weights=False))      # random A and B: the adapter counts


def forward_and_grads(model, ids, mask):
    model.zero_grad()
    logits = model(input_ids=ids, attention_mask=mask).logits
    ((logits * mask[..., None]).square().sum() / 1000).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return logits.detach(), grads


def test_the_lower_layer_cache_reuses_a_sequences_states_and_changes_nothing(tiny_llama):
    model = lora(load(tiny_llama), [1])
    model.train()
    rows = [[5, 9, 17, 30, 41, 2], [5, 9, 12, 2], [7, 8, 9, 10, 11, 12, 13, 2]]
    ids, mask = right_padded(rows)
    expected_logits, expected_grads = forward_and_grads(model, ids, mask)

    cache = LowerLayerCache(model, 1)
    with torch.no_grad():                        # the reference pass fills it
        model(input_ids=ids, attention_mask=mask)
    assert (cache.hits, cache.misses) == (0, 1) and cache.stored_bytes > 0
    order = [2, 0, 1]                            # the same sequences in another batch, padded to another width
    shuffled_ids, shuffled_mask = right_padded([rows[i] for i in order], width=ids.shape[1] + 3)
    logits, grads = forward_and_grads(model, shuffled_ids, shuffled_mask)
    assert cache.hits == 1
    for row, source in enumerate(order):
        n = len(rows[source])
        torch.testing.assert_close(logits[row, :n], expected_logits[source, :n], atol=1e-5, rtol=1e-5)
    assert grads.keys() == expected_grads.keys() and grads
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], atol=1e-6, rtol=1e-4)

    new_ids, new_mask = right_padded([rows[0], [3, 4, 5, 2]])
    model(input_ids=new_ids, attention_mask=new_mask)
    assert (cache.hits, cache.misses) == (1, 2)   # one unknown sequence: the layers ran
    left_mask = torch.flip(mask, dims=[1])
    model(input_ids=torch.flip(ids, dims=[1]), attention_mask=left_mask)
    assert (cache.hits, cache.misses) == (1, 2)   # left padding: not looked up, not stored
    cache.remove()
    model(input_ids=ids, attention_mask=mask)
    assert cache.hits == 1 and "forward" not in vars(model.get_base_model().model.layers[0])


def test_the_lower_layer_cache_steps_aside_when_a_lower_layer_learns(tiny_llama):
    model = lora(load(tiny_llama), [0, 1])           # layer 0 takes gradients: its output changes each step
    model.train()
    ids, mask = right_padded([[5, 9, 17, 2], [7, 8, 2]])
    cache = LowerLayerCache(model, 1)
    with torch.no_grad():
        model(input_ids=ids, attention_mask=mask)
    forward_and_grads(model, ids, mask)
    assert cache.hits == 0


@pytest.mark.slow
def test_a_dpo_run_with_the_speedups_learns_what_one_without_them_learns(tiny_llama, tmp_path):
    from safetensors.torch import load_file

    from studio.policy.train import train_dpo

    pairs = [Pair(prompt=f"Say something about topic {i}.", chosen="The river runs to the sea." * (1 + i % 2),
                  rejected="A small cat.") for i in range(8)]
    base = DPOSettings(**{**FAST, "max_steps": 3}, top_layers=1, bf16=False, learning_rate=1e-3)
    runs = {}
    for label, settings in (("plain", base.replace(completion_head=False, cache_lower_layers=False)),
                            ("fast", base), ("checkpointed", base.replace(gradient_checkpointing=True))):
        outcome = train_dpo(tiny_llama, pairs, settings, output_dir=tmp_path / label)
        runs[label] = (outcome.metrics, load_file(str(tmp_path / label / "adapter_model.safetensors")))
    (plain, plain_weights), (fast, fast_weights) = runs["plain"], runs["fast"]
    assert fast["completion_head"] is True and plain["completion_head"] is False
    assert fast["lower_layer_cache"]["hits"] >= 3 and "lower_layer_cache" not in plain
    assert fast["loss"] == pytest.approx(plain["loss"], rel=1e-4)
    assert fast_weights.keys() == plain_weights.keys()
    assert all(".layers.1." in name for name in fast_weights)
    checkpointed, checkpointed_weights = runs["checkpointed"]
    assert checkpointed["lower_layer_cache"]["hits"] >= 3          # the adapters still learn behind cached states
    for name, weight in fast_weights.items():
        torch.testing.assert_close(weight, plain_weights[name], atol=1e-5, rtol=1e-3)
        torch.testing.assert_close(checkpointed_weights[name], plain_weights[name], atol=1e-5, rtol=1e-3)
