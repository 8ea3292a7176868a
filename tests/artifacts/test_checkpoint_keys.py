"""Checkpoints are stored by key: a training registers `reward-models/<name>` (relative to the
artifact store), migration 0004 rewrites the paths older versions stored, and the model
loads wherever the data dir has moved since."""

from __future__ import annotations

import importlib
import shutil

import pytest
from sqlalchemy import create_engine, text

from tests.reliability.cli import run_cli
from tests.rewards.helpers import add_marker_votes

as_key = importlib.import_module("studio.store.migrations.versions.0004_checkpoint_keys").as_key


@pytest.mark.parametrize(("stored", "key"), [
    ("/home/ana/studio-data/reward-models/rm-20261201-abc", "reward-models/rm-20261201-abc"),
    ("studio-data/reward-models/rm-1", "reward-models/rm-1"),
    ("../x/reward-models/old/reward-models/rm-2", "reward-models/rm-2"),
    ("reward-models/rm-3", "reward-models/rm-3"),
    ("checkpoints/rm-20260115-095200-abc123", "checkpoints/rm-20260115-095200-abc123"),   # not ours: kept
    ("/models/elsewhere/rm-4", "/models/elsewhere/rm-4"),
])
def test_stored_paths_become_keys_relative_to_the_store(stored, key):
    assert as_key(stored) == key


@pytest.mark.slow
def test_an_upgraded_studio_loads_its_model_by_key_after_the_data_dir_moved(tmp_path, tiny_encoder):
    from studio.api import Studio
    from studio.config import TrainingConfig

    data = tmp_path / "old-place"
    settings = TrainingConfig(backbone=tiny_encoder, retrain_every=0, max_length=48)
    with Studio.open(data, queue_url="immediate", training=settings) as studio:
        add_marker_votes(studio, prompts=6)
        version = studio.train_reward_model(progress=False)["version"]
        key = studio.reward_models()["checkpoint_path"].iloc[0]
        assert key.startswith("reward-models/rm-")
        scores = studio.reward_model().score_batch(["p"], ["an answer"])
    engine = create_engine(f"sqlite:///{data / 'studio.db'}")
    with engine.begin() as connection:           # what version 0003 of the studio stored
        connection.execute(text("UPDATE reward_models SET checkpoint_path = :p"), {"p": str(data.resolve() / key)})
        connection.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    engine.dispose()

    code, out, err = run_cli(["db", "upgrade"], data)
    assert code == 0 and "0003 -> " in out, err
    moved = tmp_path / "new-place"
    shutil.move(data, moved)
    with Studio.open(moved, queue_url="immediate", training=settings) as studio:
        assert studio.reward_models()["checkpoint_path"].tolist() == [key]
        model = studio.reward_model()
        assert model.version == version and model.score_batch(["p"], ["an answer"]) == pytest.approx(scores)
