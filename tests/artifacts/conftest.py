"""Both artifact stores, built the way a studio builds them (`open_artifacts`), for the same tests."""

from __future__ import annotations

import pytest

from tests.rewards.conftest import tiny_backbones, tiny_encoder  # noqa: F401  (tiny offline backbones)


def object_config(tmp_path, seaweed_server, bucket: str, *, cache: str = "cache", **keys):
    from studio.config import ArtifactsConfig, load_config

    settings = {"endpoint_url": seaweed_server.endpoint, "access_key_id": "studio-test",
                "secret_access_key": "studio-test-secret", "region": "us-east-1", **keys}
    return load_config(tmp_path / "data", env={}, cache_dir=tmp_path / cache, artifacts_url=f"s3://{bucket}/studio",
                       artifacts=ArtifactsConfig(**settings))


@pytest.fixture(params=["local", pytest.param("object", marks=pytest.mark.slow)])
def artifacts(request, tmp_path):
    """A LocalArtifactStore on a data dir, and an ObjectArtifactStore on a fresh SeaweedFS bucket."""
    from studio.artifacts import open_artifacts
    from studio.config import load_config

    if request.param == "local":
        return open_artifacts(load_config(tmp_path / "data", env={}, cache_dir=tmp_path / "cache"))
    server = request.getfixturevalue("seaweed_server")
    return open_artifacts(object_config(tmp_path, server, server.new_bucket()))
