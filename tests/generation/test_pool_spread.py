"""With a gated active text reward model that has an ensemble, the pool fills a contender
pair with the candidate outputs that model is least sure about first; without an ensemble
the candidates keep their coverage order."""

from __future__ import annotations

import numpy as np

from studio.generation.pool import PlannedItem, fill_items
from studio.records import GenerationIn
from studio.rewards import checkpoint
from studio.rewards.net import build_net, make_spec
from studio.rewards.tiny import build_tiny_text_model

TEXTS = [["rain on the roof", "grey sky, wet leaves", "drops drum the window"],
         ["the cat sleeps", "umbrellas bloom like flowers", "storm clouds gather slowly today"]]


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


def test_the_pool_serves_the_candidate_pair_the_ensemble_is_least_sure_about(sqlite_studio, text_specs, tmp_path):
    studio = sqlite_studio
    for spec in text_specs:
        studio.add_contender(spec)
    prompt = studio.add_prompts(["Write a haiku about rain."])[0]
    a, b = sorted(studio.contender(spec.name).id for spec in text_specs)
    ids = studio.add_generations([GenerationIn(prompt_id=prompt, contender_id=c, text=t, source="test")
                                  for c, texts in zip((a, b), TEXTS, strict=True) for t in texts])
    existing = [(g, prompt, a if n < 3 else b) for n, g in enumerate(ids)]
    planned = [PlannedItem(prompt, (a, b))]
    coverage = fill_items(planned, existing, [], pool_seed=0)[0].places
    assert coverage == [ids[0], ids[3]]                      # oldest samples first

    encoder = build_tiny_text_model(tmp_path / "encoder", architecture="encoder")
    net = build_net(make_spec(str(encoder), max_length=48, ensemble=4))
    _members_disagree(net)
    checkpoint.save(net, tmp_path / "ensemble", metrics={}, data={})
    _register(studio, 1, tmp_path / "ensemble")
    choice = studio.pair_choice                              # as the studio wires it into the pool
    assert "ensemble spread (4 members)" in choice.status().reason
    candidates = [(left, right) for left in ids[:3] for right in ids[3:]]
    spreads = np.array(choice._candidate_spreads(studio.registry.load(1), prompt, candidates))
    assert np.isfinite(spreads).all() and spreads.std() > 0
    ranked = [set(candidates[i]) for i in np.argsort(-spreads)]
    assert ranked[0] != set(coverage)                         # the spread changes what is served

    assert studio.refill_pool(min_ready=2) == 2               # from the stored outputs, least certain first
    served = [studio.next_item("ana"), studio.next_item("bo")]
    assert {frozenset(s.generation_id for s in item.sides) for item in served} == \
        {frozenset(ranked[0]), frozenset(ranked[1])}

    checkpoint.save(build_net(make_spec(str(encoder), max_length=48)), tmp_path / "single", metrics={}, data={})
    _register(studio, 2, tmp_path / "single")
    assert choice.candidate_order() is None
    assert "v2 has no ensemble" in choice.status().reason
    assert fill_items(planned, existing, [], pool_seed=0, order=choice.candidate_order())[0].places == coverage

    _register(studio, 3, tmp_path / "missing")               # a checkpoint that cannot load: no raise
    assert choice.candidate_order() is None
    assert "no reward-model spread" in choice.status().reason
