"""The artifact store's interface: files the studio keeps (media, reward-model checkpoints,
policy adapters, export files) addressed by keys relative to the store (POSIX paths such as
`media/ab/<sha256>.png` or `reward-models/rm-...`), never by a machine's own paths.

Two stores implement it: `LocalArtifactStore` (a directory, by default the data dir) and
`ObjectArtifactStore` (an S3-compatible bucket through fsspec/s3fs, with a local cache).
`open_artifacts(config)` picks one from `artifacts_url`.

A file appears under its key whole or not at all (written under a temporary name, then moved
into place). A tree (a model directory) is complete once its manifest is written, which is
the last step of `move_tree_in`; callers register a key in the database only after the call
that stored it returned.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from studio.errors import InputError, NotFoundError
from studio.records import media_key

MANIFEST = ".studio-manifest.json"       # written last into every stored tree


class ArtifactMissing(NotFoundError):
    """A key the database names is not in the artifact store."""

    def __init__(self, key: str, where: str):
        super().__init__(f"artifact '{key}' is missing from the artifact store {where}: restore it there, "
                         "or point artifacts_url at the store that holds it")
        self.key = key


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_manifest(directory: Path) -> dict[str, dict[str, int | str]]:
    """Relative POSIX path -> {sha256, size} of every file under `directory` (its manifest aside)."""
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        if relative != MANIFEST:
            files[relative] = {"sha256": sha256_file(path), "size": path.stat().st_size}
    return files


def manifest_bytes(files: dict) -> bytes:
    return json.dumps({"format": 1, "files": files}, indent=1, sort_keys=True).encode()


def read_manifest(data: bytes, key: str) -> dict[str, dict]:
    try:
        return dict(json.loads(data)["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"artifact tree '{key}' has an unreadable manifest ({exc}); store it again") from exc


def digest_in_key(key: str) -> str | None:
    """The sha256 a content-addressed media key carries (`media/ab/<digest>.png`), else None."""
    posix = PurePosixPath(key)
    if len(posix.parts) != 3 or posix.parts[0] != "media":
        return None
    stem = posix.stem
    if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem):
        return stem
    if len(stem) == 62 and all(c in "0123456789abcdef" for c in stem):   # older keys: digest less its first two
        return posix.parts[1] + stem
    return None


def checked_key(key: str) -> str:
    """A key that stays inside the store: relative, no '..', no NUL or backslash."""
    if not isinstance(key, str) or not key.strip():
        raise InputError("an artifact key cannot be empty")
    if "\x00" in key or "\\" in key:
        raise InputError(f"artifact key {key!r} holds a NUL or a backslash")
    posix = PurePosixPath(key)
    if posix.is_absolute() or ".." in posix.parts or (posix.parts and ":" in posix.parts[0]):
        raise InputError(f"artifact key {key!r} must be a relative path inside the store")
    return posix.as_posix()


class ArtifactStore(ABC):
    """Files by key. `url` names the store in messages (never with credentials)."""

    url: str

    # -- what each store provides ----------------------------------------------------------

    @abstractmethod
    def check(self) -> None:
        """Reach the store now; raise ConfigError (one line naming the URL and what failed)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """The file's bytes; ArtifactMissing naming the key when it is not there."""

    @abstractmethod
    def path(self, key: str) -> Path:
        """A local file holding `key` (for an object store: its cached copy)."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> bool:
        """Write `data` under `key` unless it is there already; False when it was."""

    @abstractmethod
    def remove(self, keys: Iterable[str]) -> None:
        """Delete these file keys (those a failed import added, nothing else)."""

    @abstractmethod
    def move_tree_in(self, key: str, staged: Path) -> str:
        """Store the directory `staged` (made by the caller, removed by this call) as the tree
        `key`; returns the key once every file and then the manifest are stored. A tree is
        never overwritten (FileExistsError)."""

    @abstractmethod
    def tree(self, key: str) -> Path:
        """A local directory holding the tree `key` (downloaded once into the cache and checked
        against its manifest); ArtifactMissing when the store has no complete tree there."""

    @abstractmethod
    def remove_tree(self, key: str) -> None: ...

    @abstractmethod
    def staging_dir(self, key: str) -> Path:
        """A new empty local directory in which to build the tree `key` before `move_tree_in`
        (on the same disk as its final place, so moving it in is a rename)."""

    @abstractmethod
    def keys(self, prefix: str) -> Iterator[str]:
        """Every file key under `prefix` (a folder key such as 'media')."""

    # -- built on the above ------------------------------------------------------------------

    def read_stored(self, key: str) -> bytes:
        """The bytes as the store itself holds them (never a cached copy)."""
        return self.read_bytes(key)

    def stored_sha256(self, key: str) -> str:
        """The sha256 of the file as the store holds it (to verify a copy)."""
        return sha256_bytes(self.read_stored(key))

    def has_tree(self, key: str) -> bool:
        return self.exists(f"{checked_key(key)}/{MANIFEST}")

    def put_media(self, data: bytes, suffix: str = ".png") -> tuple[str, str]:
        """Store a media file by its content hash; returns (key, sha256)."""
        digest = sha256_bytes(data)
        key = media_key(digest, suffix)
        self.put_bytes(key, data)
        return key, digest

    def put_file(self, key: str, source: Path, *, sha256: str, max_bytes: int) -> bool:
        """Copy a file in under `key`, checking it still has the content hash it was checked
        with; False when the key was there already."""
        if self.exists(key):
            return False
        with open(source, "rb") as stream:
            data = stream.read(max_bytes + 1)
        if sha256_bytes(data) != sha256:
            raise InputError(f"{source} changed while it was being imported; import again")
        return self.put_bytes(key, data)
