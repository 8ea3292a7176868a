"""The artifact store's promises, on the data dir and on a real S3-compatible store
(SeaweedFS): files by key, whole or absent; model directories stored whole and handed back
as a local directory; a missing key named in the error."""

from __future__ import annotations

import pytest

from studio.artifacts import ArtifactMissing
from studio.artifacts.base import MANIFEST
from studio.errors import InputError


def test_media_are_stored_by_content_and_read_back_from_any_reader(artifacts):
    key, digest = artifacts.put_media(b"\x89PNG one image")
    assert key == f"media/{digest[:2]}/{digest}.png"
    assert artifacts.put_media(b"\x89PNG one image") == (key, digest)          # the same image is one file
    assert artifacts.exists(key) and artifacts.read_bytes(key) == b"\x89PNG one image"
    assert artifacts.path(key).read_bytes() == b"\x89PNG one image"            # a local file to open
    assert list(artifacts.keys("media")) == [key]                               # no temporary key left behind


def test_a_missing_key_is_named_in_the_error(artifacts):
    missing = "media/ab/" + "ab" * 32 + ".png"
    with pytest.raises(ArtifactMissing, match=missing):
        artifacts.read_bytes(missing)
    with pytest.raises(ArtifactMissing, match="reward-models/rm-gone"):
        artifacts.tree("reward-models/rm-gone")


@pytest.mark.parametrize("key", ["../studio.db", "/etc/passwd", "media/../../x", "c:/x", "a\\b", ""])
def test_keys_cannot_leave_the_store(artifacts, key):
    with pytest.raises(InputError):
        artifacts.read_bytes(key)


def test_a_model_directory_is_stored_whole_and_comes_back_as_a_local_directory(artifacts):
    key = "reward-models/rm-test-1"
    staged = artifacts.staging_dir(key) / "rm-test-1"
    (staged / "backbone").mkdir(parents=True)
    (staged / "reward_model.json").write_text('{"format": 1}')
    (staged / "backbone" / "weights.bin").write_bytes(bytes(range(256)) * 40)
    assert not artifacts.has_tree(key)
    assert artifacts.move_tree_in(key, staged) == key
    assert artifacts.has_tree(key) and not staged.exists()
    local = artifacts.tree(key)
    assert (local / "reward_model.json").read_text() == '{"format": 1}'
    assert (local / "backbone" / "weights.bin").read_bytes() == bytes(range(256)) * 40
    with pytest.raises(FileExistsError):
        again = artifacts.staging_dir(key) / "again"
        again.mkdir()
        artifacts.move_tree_in(key, again)
    artifacts.remove_tree(key)
    assert not artifacts.has_tree(key)


@pytest.mark.slow
def test_a_second_machine_downloads_a_tree_once_into_its_own_cache_and_checks_it(seaweed_server, tmp_path):
    from studio.artifacts import open_artifacts
    from tests.artifacts.conftest import object_config

    bucket = seaweed_server.new_bucket()
    writer = open_artifacts(object_config(tmp_path / "a", seaweed_server, bucket))
    staged = writer.staging_dir("adapters/a-1") / "a-1"
    staged.mkdir()
    (staged / "adapter.safetensors").write_bytes(b"weights" * 1000)
    writer.move_tree_in("adapters/a-1", staged)

    reader = open_artifacts(object_config(tmp_path / "b", seaweed_server, bucket))
    first = reader.tree("adapters/a-1")
    assert first.is_relative_to(tmp_path / "b") and (first / "adapter.safetensors").read_bytes() == b"weights" * 1000
    assert (first / MANIFEST).is_file()
    seaweed_server.filesystem().rm_file(f"{bucket}/studio/adapters/a-1/adapter.safetensors")
    assert reader.tree("adapters/a-1") == first                    # cached: not downloaded again

    other = open_artifacts(object_config(tmp_path / "c", seaweed_server, bucket))
    with pytest.raises(ArtifactMissing, match="adapters/a-1/adapter.safetensors"):
        other.tree("adapters/a-1")                                  # a tree missing a file is refused whole
    assert not (other.cache_root / "adapters" / "a-1").exists()


@pytest.mark.slow
def test_a_corrupted_media_file_in_the_bucket_is_refused_not_cached(seaweed_server, tmp_path):
    from studio.artifacts import open_artifacts
    from tests.artifacts.conftest import object_config

    bucket = seaweed_server.new_bucket()
    writer = open_artifacts(object_config(tmp_path / "a", seaweed_server, bucket))
    key, _ = writer.put_media(b"the real image")
    seaweed_server.filesystem().pipe_file(f"{bucket}/studio/{key}", b"something else")
    reader = open_artifacts(object_config(tmp_path / "b", seaweed_server, bucket))
    with pytest.raises(InputError, match="does not have the content its key names"):
        reader.path(key)
    assert not reader.cache.path(key).exists()
