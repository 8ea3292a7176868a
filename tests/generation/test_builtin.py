"""The built-in SmolLM2 contenders write readable English with no internet."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from studio.generation.builtin import demo_contenders


@pytest.mark.slow
def test_the_builtin_smollm2_contenders_answer_in_english_offline(sqlite_studio):
    studio = sqlite_studio
    focused, creative = demo_contenders(max_new_tokens=16)
    assert focused.params != creative.params and focused.model == creative.model == "smollm2-135m"
    greedy = replace(focused, name="smollm2-greedy", params={"max_new_tokens": 16, "do_sample": False})
    for spec in (focused, creative, greedy):
        studio.add_contender(spec)
    prompt_id = studio.add_prompts(["What is the capital of France?"])[0]
    made = studio.generate(greedy.name, [prompt_id], seed=0)
    text = studio.generations(contender=greedy.name).set_index("id").loc[made[0], "text"]
    assert "Paris" in text and re.search(r"\b(the|is|of)\b", text, re.IGNORECASE)
    assert any((studio.config.cache_dir / "models").glob("smollm2-135m*/model.safetensors"))
    final = list(studio.free_prompt("Say hello in one short sentence.", "ana",
                                    contenders=(focused.name, creative.name)))[-1]
    # Sampled answers (the creative side runs at temperature 1.0 with a fresh seed): about one in
    # fifty is a single word among emoji ("SOILBODY", "🔥🔥🔥 Hello 🐧🐧"), so ask for a word on each side;
    # the greedy answer above is where the English is checked.
    assert final.done and all(re.search(r"[A-Za-z]{2,}", side.text) for side in final.item.sides)
