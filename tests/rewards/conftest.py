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


def _factory(database_url: str, data_dir, backbone: str):
    from studio.api import Studio
    from studio.config import TrainingConfig

    opened = []

    def make(queue_url: str | None = "immediate", **training):
        settings = {"backbone": backbone, "retrain_every": 0, "max_length": 48, **training}
        studio = Studio.open(database_url, data_dir=data_dir, queue_url=queue_url,
                             training=TrainingConfig(**settings))
        opened.append(studio)
        return studio

    return make, opened


@pytest.fixture
def open_studio(database_url, tmp_path, tiny_encoder):
    """Open a Studio on each back end with the tiny encoder as backbone; keyword arguments
    change [training] settings (retrain_every=0 unless given: no automatic retraining)."""
    make, opened = _factory(database_url, tmp_path / "data", tiny_encoder)
    yield make
    for studio in opened:
        studio.close()


@pytest.fixture
def open_sqlite_studio(tmp_path, tiny_encoder):
    """`open_studio` on SQLite only (tests whose subject is not the database)."""
    make, opened = _factory(f"sqlite:///{tmp_path / 'data' / 'studio.db'}", tmp_path / "data", tiny_encoder)
    yield make
    for studio in opened:
        studio.close()
