"""A model that cannot load is named with what to do, and the studio keeps working."""

from __future__ import annotations

import pytest

from studio.contender_spec import ContenderSpec
from studio.errors import InputError, ModelLoadError
from studio.records import GenerationIn


@pytest.mark.parametrize("spec, expected", [
    (ContenderSpec(name="gone", model="/nonexistent/model-dir"), "does not exist"),
    (ContenderSpec(name="offline", model="nobody-here/not-a-real-model"), "hub id"),
])
def test_a_missing_model_names_the_contender_and_what_to_do(sqlite_studio, spec, expected):
    sqlite_studio.add_contender(spec)
    prompt_id = sqlite_studio.add_prompts(["Hello"])[0]
    with pytest.raises(ModelLoadError, match=rf"contender '{spec.name}'.*{expected}"):
        sqlite_studio.generate(spec.name, [prompt_id])
    assert sqlite_studio.generations().empty


def test_a_model_of_the_wrong_kind_is_refused_clearly(sqlite_studio, tiny_models):
    sqlite_studio.add_contender(ContenderSpec(name="text-on-sd", model=str(tiny_models["sd"])))
    sqlite_studio.add_contender(ContenderSpec(name="sd-on-text", kind="image", backend="diffusers",
                                              model=str(tiny_models["gpt2"])))
    with pytest.raises(ModelLoadError, match="text-on-sd.*diffusers pipeline.*kind = \"image\""):
        sqlite_studio.generator("text-on-sd")
    with pytest.raises(ModelLoadError, match="sd-on-text.*not a diffusers pipeline"):
        sqlite_studio.generator("sd-on-text")


def test_imported_outputs_cannot_generate(sqlite_studio):
    prompt_id = sqlite_studio.add_prompts(["Hi"])[0]
    with sqlite_studio.store.transaction() as tx:
        contender_id = tx.contenders.ensure_external(["elsewhere"])["elsewhere"]
    sqlite_studio.add_generations([GenerationIn(prompt_id=prompt_id, contender_id=contender_id, text="hey")])
    with pytest.raises(InputError, match="imported outputs"):
        sqlite_studio.generate("elsewhere", [prompt_id])


def test_the_pool_skips_a_broken_contender_and_records_why(text_studio):
    text_studio.add_contender(ContenderSpec(name="broken", model="/nonexistent/model-dir"))
    text_studio.add_prompts(["One", "Two"])
    assert text_studio.refill_pool(min_ready=2) == 2
    status = text_studio.pool_status()
    assert "does not exist" in status.problems["broken"] and set(status.problems) == {"broken"}
    assert status.ready == {"default": 2}
    contenders = {side.contender for side in text_studio.next_item("ana").sides}
    assert contenders == {"gpt", "llama"}
