"""Which token states a text backbone's features come from: a frozen decoder pools the mean of
a layer three quarters of the way up; older models keep the pooling they were trained with."""

from __future__ import annotations

import pytest
import torch

from studio.errors import ConfigError
from studio.rewards.data import Item, content_key, text_digest


def _items(texts: list[str]) -> list[Item]:
    return [Item(key=content_key("a question", text_digest(t)), prompt="a question", text=t) for t in texts]


def _manual(net, items, layer: int, how: str) -> torch.Tensor:
    prepared = net.prepare(items)
    from studio.rewards.encoding import collate

    batch = collate(prepared.tokens["pair"], net.tokenizer.pad_token_id)
    with torch.no_grad():
        states = net.backbone(**batch, output_hidden_states=True).hidden_states[layer].float()
    mask = batch["attention_mask"]
    if how == "last":
        pooled = states[torch.arange(len(items)), mask.sum(dim=1) - 1]
    else:
        pooled = (states * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True)
    return torch.nn.functional.normalize(pooled, dim=-1)


def test_a_frozen_decoder_pools_the_mean_three_quarters_up_and_a_fine_tuned_one_its_last_token(tiny_backbones):
    from studio.rewards.backbones import load_config
    from studio.rewards.net import build_net, make_spec

    decoder = tiny_backbones["decoder"]
    layers = load_config(decoder).num_hidden_layers
    head = make_spec(decoder, mode="head", max_length=32)
    assert (head.pooling, head.pool_layer) == ("mean", max(1, 3 * layers // 4))
    full = make_spec(decoder, mode="full", max_length=32)
    assert (full.pooling, full.pool_layer) == ("", None)
    encoder = make_spec(tiny_backbones["encoder"], mode="head", max_length=32)
    assert (encoder.pooling, encoder.pool_layer) == ("", None)

    items = _items(["a short answer", "a much longer answer with many more words in it", "yes"])
    net = build_net(make_spec(decoder, mode="head", max_length=32, pooling="mean", pool_layer=1))
    with torch.no_grad():
        got = net._embed("pair", net.prepare(items), range(len(items))).float()
    assert torch.allclose(got, _manual(net, items, 1, "mean"), atol=1e-5)
    assert not torch.allclose(got, _manual(net, items, layers, "last"), atol=1e-3)


def test_a_decoder_model_saved_before_pooling_existed_still_reads_its_last_token(tiny_backbones):
    from studio.rewards.net import build_net
    from studio.rewards.spec import RewardSpec

    old = make_old_spec(tiny_backbones["decoder"])
    spec = RewardSpec.from_dict(old)
    net = build_net(spec)
    assert net.pooling() == "last" and spec.pool_layer is None
    items = _items(["first answer", "second, longer answer here"])
    with torch.no_grad():
        got = net._embed("pair", net.prepare(items), range(2)).float()
    layers = net.backbone.config.num_hidden_layers
    # the backbone's output is the last hidden state, after the final norm
    assert torch.allclose(got, _manual(net, items, layers, "last"), atol=1e-5)


def make_old_spec(decoder: str) -> dict:
    return {"kind": "text", "mode": "head", "backbone": decoder, "architecture": "decoder", "max_length": 32,
            "views": ["pair", "prompt"], "cheap_features": True, "interaction": "prompt_length", "head_hidden": 0,
            "ensemble": 0, "lora_rank": 0, "train_layers": None, "extra": {}}


def test_each_pooling_keeps_its_own_embedding_cache(tiny_backbones, tmp_path):
    from studio.rewards.common import embedding_cache
    from studio.rewards.net import build_net, make_spec

    decoder = tiny_backbones["decoder"]
    mean = build_net(make_spec(decoder, mode="head", max_length=32))
    last = build_net(make_spec(decoder, mode="head", max_length=32, pooling="last", pool_layer=None))
    default_minilm_like = build_net(make_spec(tiny_backbones["encoder"], mode="head", max_length=32))
    dirs = {embedding_cache(tmp_path, n).directory for n in (mean, last, default_minilm_like)}
    assert len(dirs) == 3


@pytest.mark.parametrize(("choices", "message"), [
    ({"pool_layer": 99}, "pool_layer must be between 1 and"),
    ({"pool_layer": 0}, "pool_layer must be between 1 and"),
    ({"pooling": "max"}, "pooling must be mean or last"),
])
def test_a_pooling_the_backbone_cannot_give_is_refused_in_one_line(tiny_backbones, choices, message):
    from studio.rewards.net import build_net, make_spec

    with pytest.raises(ConfigError, match=message) as caught:
        build_net(make_spec(tiny_backbones["decoder"], mode="head", max_length=32, **choices))
    assert "\n" not in str(caught.value)


def test_stopping_after_the_pooled_layer_gives_that_layers_states_and_leaves_other_callers_alone(tiny_backbones):
    from studio.rewards.backbones import layer_stack
    from studio.rewards.early_exit import states_after
    from studio.rewards.encoding import collate
    from studio.rewards.net import build_net, make_spec

    net = build_net(make_spec(tiny_backbones["decoder"], mode="head", max_length=32))
    batch = collate(net.prepare(_items(["one answer", "another, longer answer"])).tokens["pair"],
                    net.tokenizer.pad_token_id)
    ran = []
    blocks = layer_stack(net.backbone)
    handles = [b.register_forward_pre_hook(lambda *_, n=n: ran.append(n)) for n, b in enumerate(blocks)]
    try:
        with torch.no_grad():
            full = net.backbone(**batch, output_hidden_states=True).hidden_states
            ran.clear()
            early = states_after(net.backbone, 1, batch)
            assert ran == [0]                      # the blocks above the pooled one never started
            assert torch.equal(early, full[1])
            ran.clear()
            again = net.backbone(**batch, output_hidden_states=True).hidden_states
    finally:
        for handle in handles:
            handle.remove()
    assert ran == list(range(len(blocks)))         # a plain forward afterwards runs every block
    assert torch.equal(again[-1], full[-1])
    assert "_studio_exit_blocks" not in dict(net.backbone.named_modules())
