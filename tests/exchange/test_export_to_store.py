"""`Studio.export(to_store=NAME)` / `studio export --to-store NAME`: an export lands in the
artifact store as one versioned tree (exports/NAME/<time>), whole or not at all, so another
machine reading the same store (s3://) finds it by key."""

from __future__ import annotations

import json

import pytest

from studio.errors import InputError, NotFoundError
from tests.exchange.conftest import fill


def jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_an_hf_export_to_the_store_loads_from_its_key(filled, tmp_path):
    from datasets import load_from_disk

    local = filled.studio.export(tmp_path / "local", format="hf")
    summary = filled.studio.export(format="hf", to_store="prefs")
    assert summary.key.startswith("exports/prefs/") and str(summary.path) == summary.key
    stored = filled.data_dir / summary.key                  # the default store is the data dir
    assert filled.studio.export_tree(summary.key) == stored
    loaded = load_from_disk(str(stored))
    assert len(loaded) == summary.rows["train"] == local.rows["train"] > 0
    assert loaded.to_list() == load_from_disk(str(tmp_path / "local")).to_list()


def test_a_jsonl_export_to_the_store_has_the_rows_of_a_local_one_and_each_gets_a_new_key(text_filled, tmp_path):
    filled = text_filled
    local = filled.studio.export(tmp_path / "v.jsonl", format="jsonl", ties="keep")
    first = filled.studio.export(format="jsonl", ties="keep", to_store="votes")
    second = filled.studio.export(format="jsonl", ties="keep", to_store="votes")
    assert first.key != second.key and str(first.paths["train"]) == f"{first.key}/votes.jsonl"
    stored = filled.studio.export_tree(first.key) / "votes.jsonl"
    assert jsonl(stored) == jsonl(local.paths["train"])


def test_a_failed_export_to_the_store_leaves_nothing_under_exports(filled):
    next((filled.data_dir / "media").rglob("*.png")).unlink()
    with pytest.raises(NotFoundError, match=r"artifact 'media/.*' is missing from the artifact store"):
        filled.studio.export(format="hf", to_store="prefs")
    exports = filled.data_dir / "exports"
    assert not exports.exists() or [p for p in exports.rglob("*") if not p.is_dir()] == []
    assert list(filled.studio.artifacts.keys("exports")) == []
    with pytest.raises(NotFoundError):
        filled.studio.export_tree("exports/prefs/none")


def test_an_export_needs_one_place_and_a_plain_name(text_filled, tmp_path):
    studio = text_filled.studio
    with pytest.raises(InputError, match="one place to go: --out PATH"):
        studio.export(format="jsonl")
    with pytest.raises(InputError, match="not both"):
        studio.export(tmp_path / "v.jsonl", format="jsonl", to_store="v")
    with pytest.raises(InputError, match="letters, digits"):
        studio.export(format="jsonl", to_store="../escape")
    assert not (text_filled.data_dir / "exports").exists() or not any(
        p.is_file() for p in (text_filled.data_dir / "exports").rglob("*"))


def test_the_command_prints_the_key(text_filled, tmp_path):
    from typer.testing import CliRunner

    from studio.commands import load_all

    text_filled.studio.close()
    result = CliRunner().invoke(load_all(), ["export", "--format", "trl", "--to-store", "prefs", "--split", "test=0.25",
                                      "--json", "--data", str(text_filled.data_dir)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["key"].startswith("exports/prefs/") and out["paths"]["test"] == f"{out['key']}/test.jsonl"
    assert (text_filled.data_dir / out["key"] / "train.jsonl").is_file()


@pytest.mark.slow
def test_an_export_in_an_object_store_is_read_by_key_on_another_machine(tmp_path, seaweed_server):
    """One studio exports to an s3:// store; a second, with its own empty cache, fetches the
    export by the key alone."""
    from studio.api import Studio
    from tests.artifacts.conftest import object_config

    bucket = seaweed_server.new_bucket()
    with Studio(object_config(tmp_path, seaweed_server, bucket)) as studio:
        filled = fill(studio, tmp_path / "data", prompts=6, images=False)
        summary = studio.export(format="jsonl", ties="keep", to_store="votes")
        rows = studio.comparisons()
    assert not (tmp_path / "data" / "exports").exists()     # it went to the bucket, not the data dir
    other = object_config(tmp_path / "gpu", seaweed_server, bucket)
    with Studio(other) as gpu_box:
        folder = gpu_box.export_tree(summary.key)
        assert folder.is_relative_to(tmp_path / "gpu")
        stored = jsonl(folder / "votes.jsonl")
        assert [r["comparison_id"] for r in stored] == list(rows.id) and len(stored) == filled.votes
