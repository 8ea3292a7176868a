"""Best-of-n keeps the sample a scorer likes best; without a gated reward model it falls back to its base."""

from __future__ import annotations

from studio.api import Studio
from studio.contender_spec import ContenderSpec
from studio.generation.base import Request
from studio.generation.best_of_n import BestOfN
from studio.services.registry import RewardRegistry


def vowel_share(prompt: str, responses: list[str]) -> list[float]:
    """A real scorer: prefers responses made of more vowels."""
    return [sum(ch in "aeiou" for ch in r) / max(len(r), 1) for r in responses]


def test_best_of_n_keeps_the_highest_scored_sample(text_studio):
    base = text_studio.generator("gpt")
    best_of = BestOfN(ContenderSpec(name="best", backend="best_of_n", params={"base": "gpt", "n": 4}),
                      base, vowel_share)
    request = Request("Tell me about rivers", seed=21)
    chosen = best_of.generate([request])[0]
    samples = [o.text for o in base.generate(best_of.sample_requests(request))]
    scores = vowel_share(request.prompt, samples)
    assert chosen.text == samples[scores.index(max(scores))]
    assert chosen.params["scores"] == scores and chosen.params["base"] == "gpt"
    assert best_of.generate([request])[0].text == chosen.text       # the seed replays the choice


class ScoredRegistry(RewardRegistry):
    """A registry whose active reward model is a plain scoring function."""

    def steering_model(self, version="active"):
        return self.load(version), ""

    def load(self, version="active"):
        class Model:
            def score_batch(self, prompts, responses):
                return [vowel_share(p, [r])[0] for p, r in zip(prompts, responses, strict=True)]

        return Model()


def test_a_best_of_n_contender_stores_its_choice(tmp_path, text_specs):
    with Studio.open(tmp_path / "data") as studio:
        studio.generators.registry = ScoredRegistry(studio.store, studio.config, studio.artifacts)
        studio.add_contender(text_specs[0])
        studio.add_contender(ContenderSpec(name="best", backend="best_of_n", params={"base": "gpt", "n": 3}))
        prompt_id = studio.add_prompts(["Name a fruit"])[0]
        made = studio.generate("best", [prompt_id], seed=2)
        row = studio.generations(contender="best").set_index("id").loc[made[0]]
        assert len(row["params"]["scores"]) == 3
        assert row["params"]["scores"][row["params"]["chosen"]] == max(row["params"]["scores"])
        studio.generate("gpt", [prompt_id], seed=2)
        lengths = studio.best_of_n_lengths().set_index("contender").loc["best"]
        kept = len(row["text"] or "")
        base = studio.generations(contender="gpt")["text"].fillna("").str.len().mean()
        assert lengths["base"] == "gpt" and lengths["outputs"] == 1 and lengths["fallbacks"] == 0
        assert lengths["kept_mean_chars"] == kept and lengths["base_mean_chars"] == base


def test_best_of_n_falls_back_to_its_base_without_a_gated_reward_model(text_studio):
    """No reward model, or an active one that did not pass the activation gate (a version
    from before the gate, or one set active behind the studio's back): best-of-n keeps the
    base's own output and says why."""
    text_studio.add_contender(ContenderSpec(name="best", backend="best_of_n", params={"base": "gpt", "n": 2}))
    prompt_id = text_studio.add_prompts(["Hi"])[0]
    made = text_studio.generate("best", [prompt_id], seed=4)
    row = text_studio.generations(contender="best").set_index("id").loc[made[0]]
    assert "no active reward model" in row["params"]["fallback"] and "scores" not in row["params"]
    with text_studio.store.transaction() as tx:
        tx.reward_models.register(version=1, kind="text", mode="head", backbone="x", checkpoint_path="nowhere",
                                  metrics={}, data_max_comparison_id=0, job_id=None,
                                  gate={"passed": False, "reason": "not better than chance"})
        tx.reward_models.activate(1)
    second = text_studio.add_prompts(["Hello"])[0]
    made = text_studio.generate("best", [second], seed=4)
    row = text_studio.generations(contender="best").set_index("id").loc[made[0]]
    assert "v1 did not pass the activation gate (not better than chance)" in row["params"]["fallback"]
    assert text_studio.best_of_n_lengths().set_index("contender").loc["best", "fallbacks"] == 2
