"""`Studio.train_reward_model`, `reward_model()`, versions, activation and predictions, on
SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from studio.errors import NotFoundError, StudioError
from tests.rewards.helpers import MARKER, add_marker_votes, write_marker_pairs


def test_training_on_votes_registers_and_activates_a_version(open_studio):
    """A learnable preference (the marker wins; lengths tell nothing) passes the gate."""
    studio = open_studio(heldout_fraction=0.5)
    add_marker_votes(studio, prompts=16)
    metrics = studio.train_reward_model(mode="head", progress=False)
    assert metrics["version"] == 1 and metrics["activated"] is True and metrics["gate"] == "passed"
    assert metrics["heldout_low"] > 0.5 and metrics["heldout_low"] < metrics["heldout_accuracy"]
    for key in ("heldout_accuracy", "heldout_pairs", "loss", "pairs_per_s", "wall_s"):
        assert metrics[key] is not None, key
    assert metrics["heldout_pairs"] > 0 and metrics["heldout_accuracy"] >= 0.75
    models = studio.reward_models()
    assert list(models[["version", "kind", "mode", "active", "gate"]].itertuples(index=False, name=None)) == \
        [(1, "text", "head", True, "passed")]
    assert models["heldout_accuracy"].iloc[0] == pytest.approx(metrics["heldout_accuracy"])
    model = studio.reward_model()
    assert model.version == 1 and "Reward model v1" in model._repr_html_()
    assert model.score("prompt: a", f"the cat {MARKER}") > model.score("prompt: a", "the cat")
    jobs = studio.jobs()
    assert list(jobs["status"]) == ["done"] and jobs["result"].iloc[0]["version"] == 1


def test_no_active_model_is_a_clear_error(open_sqlite_studio):
    studio = open_sqlite_studio()
    with pytest.raises(NotFoundError, match="no active reward model yet: train one"):
        studio.reward_model()
    with pytest.raises(NotFoundError, match="no reward model version 3"):
        studio.reward_model(3)
    with pytest.raises(StudioError, match="nothing to train on|no preference pairs"):
        studio.train_reward_model(progress=False)
    assert studio.jobs()["status"].tolist() == ["failed"]         # the attempt is on record
    assert studio.reward_agreement()["agreement"] is None


def test_a_worse_model_is_registered_but_not_activated(open_sqlite_studio, tmp_path):
    studio = open_sqlite_studio()
    good = write_marker_pairs(tmp_path / "good.jsonl", prompts=40, seed=1)
    bad = write_marker_pairs(tmp_path / "bad.jsonl", prompts=40, seed=2, reverse=True)
    held = write_marker_pairs(tmp_path / "eval.jsonl", prompts=20, seed=3)
    first = studio.train_reward_model(pairs_file=good, eval_file=held, progress=False)
    second = studio.train_reward_model(pairs_file=bad, eval_file=held, progress=False)
    assert first["heldout_accuracy"] > 0.7 > second["heldout_accuracy"]
    assert second["previous_version"] == 1 and second["activated"] is False
    assert "not better than chance" in second["gate"]
    assert studio.reward_model().version == 1
    # no rule, not even "always", lets a model no better than chance steer anything
    third = studio.train_reward_model(pairs_file=bad, eval_file=held, activate="always", progress=False)
    assert third["activated"] is False and studio.reward_model().version == 1
    with pytest.raises(StudioError, match="v3 cannot be activated: did not pass the activation gate "
                                          r"\(not better than chance"):
        studio.activate_reward_model(3)
    studio.train_reward_model(pairs_file=good, eval_file=held, activate="never", progress=False)
    assert studio.reward_models()["active"].tolist() == [True, False, False, False]
    studio.activate_reward_model(4)
    assert studio.reward_model("active").version == 4 and studio.reward_model("latest").version == 4


def test_the_active_model_predicts_each_vote_once_and_tracks_agreement(open_studio):
    studio = open_studio(heldout_fraction=0.5)
    add_marker_votes(studio, prompts=24, seed=1)                    # 12 held-out prompts: well past the gate
    assert studio.train_reward_model(progress=False)["activated"]
    fresh = add_marker_votes(studio, prompts=3, seed=2)
    predictions = [studio.predict_vote(c) for c in fresh]
    assert all(0.0 < p < 1.0 for p in predictions) and predictions[0].version == 1
    assert studio.predict_vote(fresh[0]) == predictions[0]           # stored, not recomputed
    agreement = studio.reward_agreement()
    assert agreement["version"] == 1 and agreement["votes"] == len(fresh)
    assert agreement["agreement"] >= 0.6


def test_a_training_is_refused_while_another_holds_the_queue(open_studio):
    studio = open_studio(queue_url=None)          # a SQLite queue nobody consumes here
    add_marker_votes(studio, prompts=6)
    job = studio.enqueue_training()
    assert studio.enqueue_training().id == job.id                     # never two at once
    with pytest.raises(StudioError, match=f"already queued \\(job {job.id}\\)"):
        studio.train_reward_model(progress=False)
    studio.cancel_job(job.id)
    assert studio.job(job.id).status == "cancelled"
    assert studio.train_reward_model(progress=False)["version"] == 1


def test_full_mode_trains_one_epoch_unless_told(open_sqlite_studio, tmp_path):
    """Fine-tuning a backbone overfits the pairs after about an epoch, so full mode defaults to
    one ([training] full_epochs) while head mode keeps its own epochs; both can be set."""
    pairs = write_marker_pairs(tmp_path / "pairs.jsonl", prompts=12, seed=1)
    held = write_marker_pairs(tmp_path / "eval.jsonl", prompts=6, seed=2)
    full = open_sqlite_studio().train_reward_model(mode="full", pairs_file=pairs, eval_file=held, progress=False)
    assert full["epochs"] == 1 and "epoch_heldout_accuracy" not in full
    twice = open_sqlite_studio(full_epochs=2).train_reward_model(mode="full", pairs_file=pairs, eval_file=held,
                                                                 progress=False)
    assert twice["epochs"] == 2 and len(twice["epoch_heldout_accuracy"]) == 2
    head = open_sqlite_studio(full_epochs=2).train_reward_model(mode="head", pairs_file=pairs, eval_file=held,
                                                                progress=False)
    assert head["epochs"] >= 3
