"""A machine's local copies of an object store's files and trees, bounded in size.

    cache = LocalCache(root, max_bytes=20 * 2**30)
    cache.hit(key)              # the cached file or tree (its last use recorded), or None
    cache.put_bytes(key, data)  # written atomically, then the least recently used entries go
    cache.added(key)            # a tree moved or downloaded into place: counted, then trimmed

An entry is a file, or a tree (a directory holding a manifest), whose last use is its
modification time (a file's own, a tree's manifest's), set on every hit. When the total
passes `max_bytes`, the least recently used entries are deleted until it is back under
LOW_WATER of it; the entry just used is never among them. The total is counted once, then
kept up to date as this process adds entries; another process writing the same cache is
seen at the next trim, which counts again. Names starting with '.' (downloads and staging
in progress) are never counted or deleted. Deleting a tree renames it away first, so a
process that checks for its manifest afterwards downloads it again instead of reading half.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from studio.artifacts.base import MANIFEST, checked_key

LOW_WATER = 0.9          # a trim deletes down to this share of the bound


class LocalCache:
    def __init__(self, root: Path, *, max_bytes: int | None):
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._total: int | None = None        # counted lazily, on the first write
        self._lock = threading.Lock()

    def path(self, key: str) -> Path:
        return self.root.joinpath(*checked_key(key).split("/"))

    def hit(self, key: str, *, tree: bool = False) -> Path | None:
        """The cached file (or tree) for `key`, marked as just used; None when absent."""
        target = self.path(key)
        marker = target / MANIFEST if tree else target
        try:
            os.utime(marker)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return target

    def put_bytes(self, key: str, data: bytes) -> Path:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        with open(handle, "wb") as stream:
            stream.write(data)
        Path(temporary).replace(target)
        self._grew(len(data), keep=target)
        return target

    def added(self, key: str) -> None:
        """A tree now in place under `key` (moved in or downloaded): count it, then trim."""
        target = self.path(key)
        self._grew(_size(target), keep=target)

    def forget(self, key: str) -> None:
        """Drop a file or tree from the cache (the store removed it)."""
        target = self.path(key)
        if target.is_dir():
            _remove_tree(target)
        else:
            target.unlink(missing_ok=True)
        with self._lock:
            self._total = None                  # counted again at the next write

    def size(self) -> int:
        """Bytes in the cache now (counted)."""
        return sum(size for _, size, _ in self._entries())

    def trim(self, *, keep: Path | None = None) -> int:
        """Delete least recently used entries until the cache is under LOW_WATER of its
        bound (nothing when under the bound); returns the bytes freed."""
        if self.max_bytes is None:
            return 0
        with self._lock:
            entries = sorted(self._entries(), key=lambda entry: entry[2])      # oldest use first
            total = sum(size for _, size, _ in entries)
            freed = 0
            if total > self.max_bytes:
                goal = int(self.max_bytes * LOW_WATER)
                for path, size, _ in entries:
                    if total - freed <= goal:
                        break
                    if keep is not None and path == keep:
                        continue
                    _remove_tree(path) if path.is_dir() else path.unlink(missing_ok=True)
                    freed += size
            self._total = total - freed
            return freed

    def _grew(self, size: int, *, keep: Path) -> None:
        if self.max_bytes is None:
            return
        with self._lock:
            if self._total is not None:
                self._total += size
            over = self._total is None or self._total > self.max_bytes
        if over:
            self.trim(keep=keep)

    def _entries(self) -> list[tuple[Path, int, float]]:
        """(path, bytes, last use) of every file and tree in the cache."""
        found = []
        if not self.root.is_dir():
            return found
        for directory, folders, files in os.walk(self.root):
            here = Path(directory)
            if MANIFEST in files and here != self.root:
                found.append((here, _size(here), _mtime(here / MANIFEST)))
                folders.clear()
                continue
            folders[:] = [f for f in folders if not f.startswith(".")]
            for name in files:
                if not name.startswith("."):
                    file = here / name
                    try:
                        stat = file.stat()
                    except FileNotFoundError:        # deleted by another process meanwhile
                        continue
                    found.append((file, stat.st_size, stat.st_mtime))
        return found


def _size(tree: Path) -> int:
    total = 0
    for directory, _, files in os.walk(tree):
        for name in files:
            try:
                total += (Path(directory) / name).stat().st_size
            except FileNotFoundError:
                pass
    return total


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _remove_tree(tree: Path) -> None:
    """Rename away first (its manifest vanishes from its key at once), then delete."""
    doomed = tree.with_name(f".{tree.name}.deleting-{uuid.uuid4().hex[:8]}")
    try:
        tree.rename(doomed)
    except FileNotFoundError:
        return
    shutil.rmtree(doomed, ignore_errors=True)
