"""Files the studio keeps beside its database (media today; checkpoints and adapters too as
they move in), addressed by keys relative to the store, never by a machine's paths.

    store = ArtifactStore(config.data_dir)
    key, digest = store.put_media(png_bytes)          # "media/ab/abcdef....png", by content hash
    store.read_bytes(key); store.path(key)            # the bytes, or a local file to open
"""

from studio.artifacts.store import ArtifactStore, media_key

__all__ = ["ArtifactStore", "media_key"]
