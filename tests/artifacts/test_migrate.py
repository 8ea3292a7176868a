"""`studio artifacts migrate --to s3://...`: a data dir's media and model directories go into
the object store, each checked against its sha256, and the studio switches to it; running
it again (after an interruption) sends only what is not there intact."""

from __future__ import annotations

import pytest

from tests.reliability.cli import run_cli

pytestmark = pytest.mark.slow


def test_a_data_dir_moves_into_the_object_store_and_the_studio_reads_it_from_there(
        seaweed_server, s3_bucket, tmp_path, monkeypatch):
    from studio.api import Studio
    from studio.config import load_config
    from studio.records import GenerationIn

    data = tmp_path / "data"
    with Studio.open(data) as studio:
        studio.add_contender({"name": "painter", "kind": "image", "backend": "external"})
        (prompt,) = studio.add_prompts(["A red square."])
        stored = [studio.artifacts.put_media(f"image {i}".encode() * 500) for i in range(3)]
        keys = [key for key, _ in stored]
        studio.add_generations([GenerationIn(prompt_id=prompt, contender_id=studio.contender("painter").id,
                                             media_path=key, content_sha256=digest) for key, digest in stored])
        staged = studio.artifacts.staging_dir("reward-models/rm-1") / "rm-1"
        staged.mkdir()
        (staged / "reward_model.json").write_text('{"format": 1}')
        (staged / "head.safetensors").write_bytes(b"head" * 2000)
        studio.artifacts.move_tree_in("reward-models/rm-1", staged)
    for name, value in seaweed_server.env(STUDIO_CACHE=str(tmp_path / "cache")).items():
        monkeypatch.setenv(name, value)
    url = f"s3://{s3_bucket}/moved"
    fs = seaweed_server.filesystem()
    fs.pipe_file(f"{s3_bucket}/moved/{keys[0]}", b"half an upload")              # an earlier run's broken copy
    fs.pipe_file(f"{s3_bucket}/moved/reward-models/rm-1/head.safetensors", b"he")  # a tree without its manifest

    code, out, err = run_cli(["artifacts", "migrate", "--to", url], data)
    assert code == 0, err
    assert f"artifacts_url = '{url}'" in out and "reward-models/rm-1: stored and checked" in out
    assert fs.cat_file(f"{s3_bucket}/moved/{keys[0]}") == b"image 0" * 500
    assert f'artifacts_url = "{url}"' in (data / "studio.toml").read_text()

    code, out, err = run_cli(["artifacts", "migrate", "--to", url], data)       # resumable: nothing sent twice
    assert code != 0 and "already in" in err                                      # the studio uses it now

    moved = tmp_path / "elsewhere"
    (data / "media").rename(moved)                                                 # the local copies are not read
    config = load_config(data, env={**seaweed_server.env(), "STUDIO_CACHE": str(tmp_path / "reader-cache")})
    with Studio(config) as studio:
        assert studio.artifacts.url == url
        assert [studio.artifacts.read_bytes(k) for k in keys] == [f"image {i}".encode() * 500 for i in range(3)]
        assert (studio.artifacts.tree("reward-models/rm-1") / "head.safetensors").read_bytes() == b"head" * 2000


def test_running_it_twice_sends_only_what_is_missing(seaweed_server, s3_bucket, tmp_path):
    from studio.artifacts import LocalArtifactStore, open_url
    from studio.services.artifact_migration import migrate_artifacts
    from tests.artifacts.conftest import object_config

    source = LocalArtifactStore(tmp_path / "data")
    keys = [source.put_media(f"picture {i}".encode())[0] for i in range(4)]
    config = object_config(tmp_path, seaweed_server, s3_bucket)
    target = open_url(config.artifacts_url, config)
    first = migrate_artifacts(source, target, tmp_path / "data" / "studio.toml", local_root=source.root)
    assert (first.copied, first.already) == (4, 0)
    target.remove([keys[1]])
    again = migrate_artifacts(source, target, tmp_path / "data" / "studio.toml", local_root=source.root)
    assert (again.copied, again.already) == (1, 3)
