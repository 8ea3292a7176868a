"""Files the studio keeps beside its database (media, reward-model checkpoints, policy
adapters, export files), addressed by keys relative to the store, never by a machine's paths.

    artifacts = open_artifacts(config)                # data dir, or s3://bucket/prefix; checked now
    key, digest = artifacts.put_media(png_bytes)      # "media/ab/abcdef....png", by content hash
    artifacts.read_bytes(key); artifacts.path(key)    # the bytes, or a local file (cached) to open
    staged = artifacts.staging_dir("adapters/a-1")    # build a model directory there, then
    artifacts.move_tree_in("adapters/a-1", staged)    # store it whole; register the key after this
    artifacts.tree("adapters/a-1")                    # a local directory (downloaded once)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from studio.artifacts.base import ArtifactMissing, ArtifactStore, sha256_bytes, sha256_file
from studio.artifacts.local import LocalArtifactStore
from studio.errors import ConfigError
from studio.records import media_key

if TYPE_CHECKING:
    from studio.config import StudioConfig

__all__ = ["ArtifactMissing", "ArtifactStore", "LocalArtifactStore", "media_key", "open_artifacts",
           "open_url", "sha256_bytes", "sha256_file"]


def open_artifacts(config: StudioConfig, *, check: bool = True) -> ArtifactStore:
    """The artifact store `config.artifacts_url` names (unset: the data dir). With `check`,
    it is reached now, so a wrong URL or credentials fail at start in one line."""
    store = open_url(config.artifacts_url, config)
    if check:
        store.check()
    return store


def open_url(url: str | None, config: StudioConfig) -> ArtifactStore:
    if not url:
        return LocalArtifactStore(config.data_dir)
    if url.startswith("s3://"):
        from studio.artifacts.object import ObjectArtifactStore

        keys = config.artifacts
        return ObjectArtifactStore(url, cache_dir=config.cache_dir / "artifacts", endpoint_url=keys.endpoint_url,
                                   region=keys.region, access_key_id=keys.access_key_id,
                                   secret_access_key=keys.secret_access_key, cache_max_bytes=keys.cache_max_bytes)
    if url.startswith("file://"):
        return LocalArtifactStore(Path(url.removeprefix("file://")))
    if "://" in url:
        raise ConfigError(f"artifacts_url {url!r} is not supported: leave it unset (the data dir), give a "
                          "directory, or s3://bucket/prefix for an S3-compatible object store")
    return LocalArtifactStore(Path(url).expanduser())
