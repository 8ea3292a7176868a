"""Media files (images) named in user files, checked before anything is stored.

A path in an import file is relative to that file's folder and must stay inside it:
absolute paths, `..` that climbs out, and links that point elsewhere are refused, so a
hostile file cannot make the studio read `/etc/passwd`. A checked file knows the key it will
be stored under (`records.media_key`: by content hash); the service copies it into the
artifact store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.errors import InputError
from studio.records import media_key

MAX_MEDIA_BYTES = 50 * 1024 * 1024
IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".gif": "GIF"}


@dataclass(frozen=True)
class MediaFile:
    source: Path              # where it is now (inside the import file's folder)
    sha256: str
    suffix: str               # ".png", ...

    @property
    def key(self) -> str:
        """Its key in the artifact store: media/ab/abcdef....png"""
        return media_key(self.sha256, self.suffix)


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
