"""Text generation through the public loading path: seeds, parameters and batching."""

from __future__ import annotations

import pytest

from studio.generation.base import Request, derive_seed


def test_same_seed_gives_the_same_outputs_and_seeds_and_params_are_stored(text_studio):
    ids = text_studio.add_prompts(["Write a haiku about rain.", "Explain recursion.", "Hi"])
    first = text_studio.generate("gpt", ids, seed=11)
    again = text_studio.generate("gpt", ids, seed=11)
    assert first == again                      # identical outputs are stored once
    rows = text_studio.generations(contender="gpt").set_index("id").loc[first]
    assert len(rows) == 3 and rows["text"].str.len().min() > 0
    assert list(rows["seed"]) == [derive_seed(11, prompt_id, 0) for prompt_id in ids]
    for params in rows["params"]:
        assert params["temperature"] == 1.0 and params["max_new_tokens"] == 8 and params["batch_size"] == 3
    assert (rows["latency_ms"] > 0).all()
    other = text_studio.generate("gpt", ids, seed=12)
    assert set(other).isdisjoint(first)        # another seed, other texts


def test_n_per_prompt_samples_each_prompt_with_its_own_seed(text_studio):
    ids = text_studio.add_prompts(["Name a colour.", "Count to three."])
    made = text_studio.generate("gpt", ids, n_per_prompt=3, seed=5)
    frame = text_studio.generations(contender="gpt").set_index("id").loc[made]
    assert list(frame["prompt_id"]) == [ids[0]] * 3 + [ids[1]] * 3
    assert frame["seed"].nunique() == 6


def test_a_row_draws_the_same_tokens_whatever_else_is_in_its_batch(text_studio):
    generator = text_studio.generator("gpt")
    alone = generator.generate([Request("The river runs", seed=7)])[0]
    batched = generator.generate([Request("The river runs", seed=3), Request("The river runs", seed=7),
                                  Request("The river runs", seed=9)])
    assert batched[1].text == alone.text
    assert batched[0].text != batched[2].text


def test_a_chat_model_gets_its_template_and_the_contenders_system_prompt(text_studio):
    generator = text_studio.generator("llama")
    formatted = generator.format_prompt(Request("Say hi", seed=0, system_prompt="ignored: the contender's wins"))
    assert formatted == "<|system|>Be brief.<|end|><|user|>Say hi<|end|><|assistant|>"
    prompt_id = text_studio.add_prompts(["Say hi"])[0]
    made = text_studio.generate("llama", [prompt_id], seed=1)
    row = text_studio.generations(contender="llama").set_index("id").loc[made[0]]
    assert row["params"]["system_prompt"] == "Be brief."


def test_greedy_decoding_ignores_the_seed(text_studio, text_specs):
    from dataclasses import replace

    greedy = replace(text_specs[0], name="gpt-greedy", params={"max_new_tokens": 6, "do_sample": False})
    text_studio.add_contender(greedy)
    prompt_id = text_studio.add_prompts(["Apples and cherries"])[0]
    assert text_studio.generate("gpt-greedy", [prompt_id], seed=1) == \
        text_studio.generate("gpt-greedy", [prompt_id], seed=2)


def test_a_sampled_nul_is_stored_as_the_replacement_mark():
    """Random tiny models do sample the NUL byte; PostgreSQL refuses it in text, so a free
    prompt on a PostgreSQL studio failed to store its answers."""
    from studio.generation.text import storable

    assert storable("a\x00b") == "a\ufffdb" and storable("plain") == "plain"


@pytest.mark.parametrize("params", [{"temperature": 0.7, "top_p": 0.95}, {"temperature": 1.3, "top_p": 0.5},
                                    {"temperature": 0.7, "top_p": 0.9, "top_k": 40},
                                    {"temperature": 2.0, "top_p": 0.99},          # beyond the candidates
                                    {"temperature": 0.7, "top_p": 0.9, "top_k": 3000}])
def test_the_sampler_keeps_the_tokens_transformers_top_k_and_top_p_keep(params):
    """The sampler looks at the most probable tokens only; it must draw from exactly the set
    transformers' warpers leave (never outside it, and every token of a small set)."""
    import torch
    from transformers import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    from studio.generation.sampling import SeededSampler

    scores = torch.randn(4, 5000, generator=torch.Generator().manual_seed(0)) * 4
    warpers = [TemperatureLogitsWarper(params["temperature"]), TopPLogitsWarper(params["top_p"])]
    if params.get("top_k"):
        warpers.insert(1, TopKLogitsWarper(params["top_k"]))
    expected = scores.clone()
    for warper in warpers:
        expected = warper(None, expected)
    allowed = torch.isfinite(expected)
    copies = 100           # each row 100 times, each copy with its own seed: 2,000 draws a row in 20 steps
    sampler = SeededSampler(list(range(1, 4 * copies + 1)), params, "cpu")
    seen = torch.zeros_like(allowed)
    for _ in range(20):
        drawn = torch.isfinite(sampler(None, scores.repeat(copies, 1)))
        assert drawn.sum(dim=1).tolist() == [1] * (4 * copies)
        seen |= drawn.view(copies, 4, -1).any(dim=0)
    assert not (seen & ~allowed).any(), "a token outside top-k/top-p was drawn"
    small = allowed.sum(dim=1) <= 20
    assert (seen[small] == allowed[small]).all(), "a kept token was never drawn"


def test_rows_leave_the_batch_at_their_own_end_of_text_and_draw_the_same_tokens(text_studio, monkeypatch):
    import studio.generation.text as text

    generator = text_studio.generator("gpt")
    generator.spec.params["max_new_tokens"] = 48
    generator.params["max_new_tokens"] = 48
    requests = [Request("The river runs", seed=seed) for seed in range(24)]
    monkeypatch.setattr(text, "SEGMENT", 10_000)                  # one round: the whole batch to the end
    whole = generator.generate(requests, batch_size=24)
    model = generator.loaded.model
    row_steps = []
    hook = model.register_forward_hook(lambda module, args, kwargs_or_out: row_steps.append(args[0].shape[0])
                                       if args else None)
    try:
        monkeypatch.setattr(text, "SEGMENT", 4)
        rounds = generator.generate(requests, batch_size=24)
    finally:
        hook.remove()
    assert [o.text for o in rounds] == [o.text for o in whole]
    assert [o.new_tokens for o in rounds] == [o.new_tokens for o in whole]
    ended_early = [o.new_tokens for o in rounds if not o.params.get("truncated")]
    assert ended_early and len(ended_early) < len(rounds)        # some rows ended, some ran to the cap
    # each row was computed for about its own length (a round past its end at most), not the longest row's
    assert sum(row_steps) <= sum(min(48, o.new_tokens + 4) for o in rounds) + len(rounds)
    assert sum(row_steps) < 48 * len(rounds)
