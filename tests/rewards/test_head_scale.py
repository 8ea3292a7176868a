"""Head mode divides each feature by its spread over the training outputs, so a preference
carried by an embedding's small-valued dimensions is learnt beside the length features
(spread ~1); heads saved before that score as they were trained."""

from __future__ import annotations

import random

import numpy as np
import torch

from studio.rewards.data import _Builder, split_by_prompt
from tests.rewards.helpers import sentence


def _quality_not_length(prompts: int = 200, outputs: int = 4, seed: int = 0):
    """Outputs of random lengths, every other one "good"; raters prefer the good side, so
    length tells nothing and only the embeddings (planted below) carry the preference."""
    rng = random.Random(seed)
    builder, good = _Builder(), {}
    for p in range(prompts):
        prompt = f"question {p}: " + sentence(rng, 3, 6)
        made = []
        for k in range(outputs):
            index = builder.item(prompt, text=f"{sentence(rng, 2, 30)} ({p}.{k})")
            good[index] = k % 2 == 1
            made.append(index)
        for i, a in enumerate(made):
            for b in made[i + 1:]:
                if good[a] != good[b]:
                    builder.pair(prompt, a, b, 1.0 if good[a] else 0.0)
    return builder.data, good


def test_a_preference_in_small_valued_embedding_dimensions_is_learnt_beside_the_length_features(tiny_encoder,
                                                                                                 tmp_path):
    from studio.rewards.common import embedding_cache
    from studio.rewards.net import build_net, make_spec
    from studio.rewards.train import TrainSettings, train

    data, good = _quality_not_length()
    net = build_net(make_spec(tiny_encoder, max_length=48))
    cache, rng = embedding_cache(tmp_path, net), np.random.default_rng(0)
    dim = net.embedding_dim()
    direction = rng.choice([-1.0, 1.0], dim) / np.sqrt(dim)      # the "quality" direction
    quality = np.array([good[i] for i in range(len(data.items))], dtype=np.float32)
    for view in net._views():        # what the frozen backbone "said": normalised-embedding-sized values
        vectors = rng.normal(0.0, 1e-3, (len(data.items), dim)).astype(np.float32)
        if view != "prompt":
            vectors += (3e-3 * quality[:, None] * direction).astype(np.float32)
        cache.put(net.cache_keys(view, data.items), torch.from_numpy(vectors))
    planted = len(cache)
    train_part, heldout = split_by_prompt(data, 0.25)

    out = train(net, train_part, heldout, TrainSettings(seed=0), cache_root=tmp_path)

    assert len(embedding_cache(tmp_path, net)) == planted        # it trained on the planted embeddings
    assert out.metrics["heldout_accuracy"] > 0.9


def test_a_head_saved_before_standardising_loads_with_its_features_as_they_were():
    from studio.rewards.heads import RewardHead

    old = RewardHead(3)
    torch.nn.init.normal_(old.layers[0].weight)
    state = {k: v for k, v in old.state_dict().items() if k != "input_scale"}      # as saved before
    features = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    loaded = RewardHead(3)
    loaded.load_state_dict(state)
    assert torch.equal(loaded.input_scale, torch.ones(3))
    assert torch.allclose(loaded(features), old.layers(features).squeeze(-1))


def test_a_standardised_head_keeps_its_divisors_through_a_save(tmp_path):
    from studio.rewards.heads import RewardHead, feature_spread

    head = RewardHead(3)
    features = torch.tensor([[1.0, 0.001, 7.0], [3.0, 0.003, 7.0], [2.0, 0.002, 7.0]])
    head.standardise(feature_spread(features))
    assert torch.allclose(head.input_scale, torch.tensor([1.0, 0.001, 1.0]))   # a constant keeps 1
    again = RewardHead(3)
    again.load_state_dict(head.state_dict())
    assert torch.equal(again.input_scale, head.input_scale)
