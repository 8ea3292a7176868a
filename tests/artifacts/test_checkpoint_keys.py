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

    settings = TrainingConfig(backbone=tiny_encoder, retrain_every=0, max_length=48, heldout_fraction=0.5)
    with Studio.open(tmp_path / "trainer", queue_url="immediate", training=settings) as studio:
        add_marker_votes(studio, prompts=8)
        studio.train_reward_model(progress=False, activate="never")
        key = studio.reward_models()["checkpoint_path"].iloc[0]
        assert key.startswith("reward-models/rm-")
        scores = studio.reward_model(1).score_batch(["p"], ["an answer"])
        checkpoint = studio.artifacts.tree(key)

    data = tmp_path / "old-place"                   # a studio as version 0003 left it:
    code, _, err = run_cli(["db", "upgrade", "--revision", "0003"], data)
    assert code == 0, err
    shutil.copytree(checkpoint, data / key)
    engine = create_engine(f"sqlite:///{data / 'studio.db'}")
    with engine.begin() as connection:              # ...its checkpoint named by an absolute path
        connection.execute(text(
            "INSERT INTO reward_models (version, kind, mode, backbone, checkpoint_path, metrics, "
            "data_max_comparison_id, active, created_at) VALUES (1, 'text', 'head', :backbone, :path, '{}', 0, 1, "
            "'2026-11-30 10:00:00')"), {"backbone": tiny_encoder, "path": str(data.resolve() / key)})
    engine.dispose()

    code, out, err = run_cli(["db", "upgrade"], data)
    assert code == 0 and "0003 -> " in out, err
    moved = tmp_path / "new-place"
    shutil.move(data, moved)
    with Studio.open(moved, queue_url="immediate", training=settings) as studio:
        assert studio.reward_models()["checkpoint_path"].tolist() == [key]
        assert studio.reward_model(1).score_batch(["p"], ["an answer"]) == pytest.approx(scores)
