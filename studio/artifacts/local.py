"""The artifact store over a local directory (the data dir by default): keys are POSIX paths
relative to it, every write lands under a temporary name and is renamed into place (a reader
never sees half a file), and a key can never leave the directory.

Media are content-addressed: `media_key(sha256, ".png")` is `media/ab/<the full digest>.png`,
so the same image stored twice is one file, whoever stored it (the generation pool, an
import). Keys written by older versions (`media/ab/<digest without its first two
characters>.png`) stay readable: the database holds the key each file was stored under.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from studio.artifacts.base import (
    MANIFEST,
    ArtifactMissing,
    ArtifactStore,
    checked_key,
    manifest_bytes,
    tree_manifest,
)
from studio.errors import ConfigError, InputError


class LocalArtifactStore(ArtifactStore):
    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)
        self.url = str(self.root)

    def __repr__(self) -> str:
        return f"LocalArtifactStore({str(self.root)!r})"

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"artifact store {self.root}: cannot create it ({exc.strerror or exc})") from exc
        if not self.root.is_dir():
            raise ConfigError(f"artifact store {self.root}: not a directory")

    # -- reading -------------------------------------------------------------------------

    def path(self, key: str) -> Path:
        """The local file holding `key` (which must stay inside the store)."""
        posix = PurePosixPath(checked_key(key))
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
        except FileNotFoundError as exc:
            raise ArtifactMissing(key, str(self.root)) from exc
        except OSError as exc:
            raise InputError(f"artifact '{key}' cannot be read ({exc.strerror or exc}): is the data dir "
                             f"{self.root} complete?") from exc

    def keys(self, prefix: str) -> Iterator[str]:
        base = self.path(prefix)
        if not base.is_dir():
            return
        root = self.root.resolve()
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".partial-"):
                yield path.relative_to(root).as_posix()

    # -- writing -------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes) -> bool:
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

    def remove(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)

    # -- trees -----------------------------------------------------------------------------

    def move_tree_in(self, key: str, staged: Path) -> str:
        key = checked_key(key)
        target = self.path(key)
        if target.exists():
            raise FileExistsError(f"{target} already exists; artifact trees are never overwritten")
        manifest = manifest_bytes(tree_manifest(Path(staged)))
        (Path(staged) / MANIFEST).write_bytes(manifest)
        target.parent.mkdir(parents=True, exist_ok=True)
        if Path(staged).resolve().parent == target.parent:
            os.replace(staged, target)                      # staged beside it: one rename
        else:
            shutil.move(str(staged), str(target))
        return key

    def tree(self, key: str) -> Path:
        target = self.path(key)
        if not target.is_dir():
            raise ArtifactMissing(key, str(self.root))
        return target

    def has_tree(self, key: str) -> bool:
        # Checkpoints written before manifests existed are whole directories too (renamed into place).
        return self.path(key).is_dir()

    def remove_tree(self, key: str) -> None:
        shutil.rmtree(self.path(key), ignore_errors=True)

    def staging_dir(self, key: str) -> Path:
        """Where a tree for `key` can be built so that `move_tree_in` is one rename."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.tmp-"))
