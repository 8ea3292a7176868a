"""With a gated active text reward model that has an ensemble, the pool fills a contender
pair with the candidate outputs that model is least sure about first; without an ensemble
the candidates keep their coverage order."""

from __future__ import annotations

import numpy as np

from studio.generation.pool import PlannedItem, fill_items
from studio.records import GenerationIn
from studio.rewards import checkpoint
from studio.rewards.net import build_net, make_spec


def _members_disagree(net) -> None:
    """Random members (an untrained head starts at zero): as if fitted on different
    bootstrap resamples, they disagree more on some pairs than on others."""
    import torch

    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in net.head.parameters():
            parameter.normal_(0.0, 1.0)


def _register(studio, version: int, directory) -> None:
    with studio.store.transaction() as tx:
        tx.reward_models.register(version=version, kind="text", mode="head", backbone="tiny",
                                  checkpoint_path=str(directory), metrics={}, data_max_comparison_id=0,
                                  job_id=None, gate={"passed": True, "reason": "test: gate forced"})
        tx.reward_models.activate(version)
    studio.registry.forget()


def test_the_pool_serves_the_candidate_pair_the_ensemble_is_least_sure_about(sqlite_studio, tiny_encoder, tmp_path):
    studio = sqlite_studio
    for name in ("a", "b"):
        studio.add_contender({"name": name, "backend": "external", "model": ""})
    prompt = studio.add_prompts(["Write a haiku about rain."])[0]
    a, b = studio.contender("a").id, studio.contender("b").id
    texts = {a: ["rain on the roof", "grey sky, wet leaves", "drops drum the window"],
             b: ["the cat sleeps", "umbrellas bloom like flowers", "storm clouds gather slowly today"]}
    ids = studio.add_generations([GenerationIn(prompt_id=prompt, contender_id=c, text=t, source="test")
                                  for c in (a, b) for t in texts[c]])
    existing = [(g, prompt, a if n < 3 else b) for n, g in enumerate(ids)]
    planned = [PlannedItem(prompt, (a, b))]
    coverage = fill_items(planned, existing, [], pool_seed=0)[0].places
    assert coverage == [ids[0], ids[3]]                      # oldest samples first

    net = build_net(make_spec(tiny_encoder, max_length=48, ensemble=4))
    _members_disagree(net)
    checkpoint.save(net, tmp_path / "ensemble", metrics={}, data={})
    _register(studio, 1, tmp_path / "ensemble")
    choice = studio.pair_choice                              # as the studio wires it into the pool
    assert "ensemble spread (4 members)" in choice.status().reason
    order = choice.candidate_order()
    assert order is not None
    candidates = [(left, right) for left in ids[:3] for right in ids[3:]]
    model = studio.registry.load(1)
    spreads = np.array(choice._candidate_spreads(model, prompt, candidates))
    assert np.isfinite(spreads).all() and spreads.std() > 0
    first = fill_items(planned, existing, [], pool_seed=0, order=order)[0].places
    assert tuple(first) == candidates[int(spreads.argmax())]
    # the next item of the same pair takes the next least certain combination
    second = fill_items(planned, existing, [first], pool_seed=0, order=order)[0].places
    assert tuple(second) == candidates[int(np.argsort(-spreads)[1])]

    checkpoint.save(build_net(make_spec(tiny_encoder, max_length=48)), tmp_path / "single", metrics={}, data={})
    _register(studio, 2, tmp_path / "single")
    assert choice.candidate_order() is None
    assert "v2 has no ensemble" in choice.status().reason
    assert fill_items(planned, existing, [], pool_seed=0, order=choice.candidate_order())[0].places == coverage
