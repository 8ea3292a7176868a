"""The artifact store over a local directory (the data dir): keys are POSIX paths relative to
it, every write lands under a temporary name and is renamed into place (a reader never sees
half a file), and a key can never leave the directory.

Media are content-addressed: `media_key(sha256, ".png")` is `media/ab/<the full digest>.png`,
so the same image stored twice is one file, whoever stored it (the generation pool, an
import). Keys written by older versions (`media/ab/<digest without its first two
characters>.png`) stay readable: the database holds the key each file was stored under.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from studio.errors import InputError
from studio.records import media_key


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ArtifactStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ArtifactStore({str(self.root)!r})"

    # -- reading -------------------------------------------------------------------------

    def path(self, key: str) -> Path:
        """The local file holding `key` (which must stay inside the store)."""
        posix = PurePosixPath(_checked(key))
        root = self.root.resolve()
        path = (root / Path(*posix.parts)).resolve()
        if not path.is_relative_to(root):
            raise InputError(f"artifact key {key!r} leaves the store (through a link)")
        return path

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except OSError as exc:
            raise InputError(f"artifact '{key}' cannot be read ({exc.strerror or exc}): is the data dir "
                             f"{self.root} complete?") from exc

    # -- writing -------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes) -> bool:
        """Write `data` under `key` unless it is there already; False when it was."""
        target = self.path(key)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True

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

    def remove(self, keys: Iterable[str]) -> None:
        """Delete these keys (those a failed import added, nothing else)."""
        for key in keys:
            self.path(key).unlink(missing_ok=True)


def _checked(key: str) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InputError("an artifact key cannot be empty")
    if "\x00" in key or "\\" in key:
        raise InputError(f"artifact key {key!r} holds a NUL or a backslash")
    posix = PurePosixPath(key)
    if posix.is_absolute() or ".." in posix.parts or (posix.parts and ":" in posix.parts[0]):
        raise InputError(f"artifact key {key!r} must be a relative path inside the store")
    return key
