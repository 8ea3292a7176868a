"""Content-addressed media files: `media/ab/cdef....png`, named by the sha256 of the bytes.

The database stores the path relative to the data dir (never the bytes), so a data dir can
be moved or copied whole. The same image written twice is one file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

MEDIA_DIR = "media"


def store_media(data_dir: Path, content: bytes, suffix: str = ".png") -> tuple[str, str]:
    """Write `content` under the data dir once; returns (path relative to the data dir, sha256)."""
    digest = hashlib.sha256(content).hexdigest()
    relative = f"{MEDIA_DIR}/{digest[:2]}/{digest[2:]}{suffix}"
    target = Path(data_dir) / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed: a reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return relative, digest


def media_file(data_dir: Path, relative: str) -> Path:
    """The file a generation's `media_path` points to."""
    path = (Path(data_dir) / relative).resolve()
    if not path.is_relative_to(Path(data_dir).resolve()):
        raise ValueError(f"media path {relative!r} leaves the data dir")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
