"""Media files (images) named in user files and in the database, read and stored safely.

A path in an import file is relative to that file's folder and must stay inside it:
absolute paths, `..` that climbs out, and links that point elsewhere are refused, so a
hostile file cannot make the studio read `/etc/passwd`. Stored media are named by their
content hash under `media/` in the data dir, written to a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.errors import InputError

MAX_MEDIA_BYTES = 50 * 1024 * 1024
IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF"}


@dataclass(frozen=True)
class MediaFile:
    source: Path              # where it is now (inside the import file's folder)
    sha256: str
    suffix: str               # ".png", ...

    @property
    def relative_path(self) -> str:
        """Where it lives in the data dir: media/ab/abcdef....png"""
        return f"media/{self.sha256[:2]}/{self.sha256}{self.suffix}"


def inside(root: Path, relative: str, *, where: str) -> Path:
    """`root / relative`, refusing anything that would land outside `root`."""
    if not isinstance(relative, str) or not relative.strip():
        raise InputError(f"{where}: the path is empty")
    if "\x00" in relative:
        raise InputError(f"{where}: the path contains a NUL character")
    posix = PurePosixPath(relative.replace("\\", "/"))
    if posix.is_absolute() or relative.startswith(("/", "\\")) or (posix.parts and ":" in posix.parts[0]):
        raise InputError(f"{where}: '{relative}' is an absolute path; give a path relative to the file's folder")
    if ".." in posix.parts:
        raise InputError(f"{where}: '{relative}' leaves the file's folder ('..' is not allowed)")
    root = root.resolve()
    path = (root / Path(*posix.parts)).resolve()
    if path != root and root not in path.parents:
        raise InputError(f"{where}: '{relative}' points outside the file's folder (through a link)")
    return path


def image_file(base_dir: Path, relative: str, *, where: str, missing_hint: str = "") -> MediaFile:
    """Check an image named in an import file: inside its folder, a real image, not huge.
    `missing_hint` ends the message when the file is not there (say where it should be)."""
    path = inside(base_dir, relative, where=where)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise InputError(f"{where}: '{relative}' is not an image file ({', '.join(sorted(IMAGE_SUFFIXES))})")
    if not path.is_file():
        raise InputError(f"{where}: no such image file '{relative}'{missing_hint}")
    size = path.stat().st_size
    if size > MAX_MEDIA_BYTES:
        raise InputError(f"{where}: '{relative}' is larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
    data = path.read_bytes()
    _check_image(data, IMAGE_SUFFIXES[suffix], relative, where)
    return MediaFile(source=path, sha256=hashlib.sha256(data).hexdigest(), suffix=".jpg" if suffix == ".jpeg" else suffix)


def _check_image(data: bytes, expected: str, relative: str, where: str) -> None:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            found = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{where}: '{relative}' is not a readable image ({exc.__class__.__name__})") from exc
    if found != expected:
        raise InputError(f"{where}: '{relative}' holds a {found} image, not {expected} as its name says")


def store(media_file: MediaFile, data_dir: Path) -> bool:
    """Copy the file into the data dir under its content hash; False when already there."""
    target = data_dir / media_file.relative_path
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(media_file.source, "rb") as source, open(temp, "wb") as out:
            data = source.read(MAX_MEDIA_BYTES + 1)
            if hashlib.sha256(data).hexdigest() != media_file.sha256:
                raise InputError(f"{media_file.source} changed while it was being imported; import again")
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return True


def remove(relative_paths: list[str], data_dir: Path) -> None:
    """Undo `store` for files this import added (used when its transaction failed)."""
    for relative in relative_paths:
        (data_dir / relative).unlink(missing_ok=True)


def read_media(data_dir: Path | None, relative: str) -> bytes:
    """A stored media file's bytes, for exports; the path must stay inside the data dir."""
    if data_dir is None:
        raise InputError(f"cannot read media '{relative}': the export has no data dir")
    path = inside(data_dir, relative, where="media")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"media file '{relative}' cannot be read ({exc.strerror}): is the data dir complete?") from exc
