"""Tiny random models for reward-model tests: built once per session, offline, with locally
trained tokenizers, and loaded through the same code a user's backbone goes through."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_backbones(tmp_path_factory) -> dict[str, str]:
    from studio.rewards.tiny import build_tiny_clip, build_tiny_text_model

    root = tmp_path_factory.mktemp("reward-backbones")
    return {"encoder": str(build_tiny_text_model(root / "encoder", architecture="encoder")),
            "seqcls": str(build_tiny_text_model(root / "seqcls", architecture="seqcls")),
            "decoder": str(build_tiny_text_model(root / "decoder", architecture="decoder")),
            "clip": str(build_tiny_clip(root / "clip"))}


@pytest.fixture(scope="session")
def tiny_encoder(tiny_backbones) -> str:
    return tiny_backbones["encoder"]
