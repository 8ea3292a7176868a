"""Tiny real models, built once per test session, offline, and loaded through the same
public code a user's model goes through."""

from __future__ import annotations

import pytest

from studio.contender_spec import ContenderSpec
from studio.generation.tiny import build_tiny_image_pipeline, build_tiny_text_model


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-models")
    return {"gpt2": build_tiny_text_model(root / "gpt2"),
            "llama": build_tiny_text_model(root / "llama-chat", arch="llama", chat=True, seed=1),
            "sd": build_tiny_image_pipeline(root / "sd")}


@pytest.fixture(scope="session")
def text_specs(tiny_models) -> tuple[ContenderSpec, ContenderSpec]:
    """Two text contenders: a tiny GPT-2 and a tiny Llama with a chat template."""
    return (ContenderSpec(name="gpt", model=str(tiny_models["gpt2"]),
                          params={"max_new_tokens": 8, "temperature": 1.0}),
            ContenderSpec(name="llama", model=str(tiny_models["llama"]),
                          params={"max_new_tokens": 8, "temperature": 0.8, "system_prompt": "Be brief."}))


@pytest.fixture(scope="session")
def image_spec(tiny_models) -> ContenderSpec:
    return ContenderSpec(name="sd", kind="image", backend="diffusers", model=str(tiny_models["sd"]),
                         params={"steps": 2, "guidance": 2.0})


@pytest.fixture
def text_studio(tmp_path, text_specs):
    """A SQLite studio with the two tiny text contenders declared in its studio.toml."""
    from studio.api import Studio
    from studio.generation.contender_file import append_contender

    data = tmp_path / "data"
    for spec in text_specs:
        append_contender(data / "studio.toml", spec)
    with Studio.open(data) as studio:
        yield studio
