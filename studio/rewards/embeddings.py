"""The frozen-backbone embedding cache behind head mode.

A generation never changes, so its embedding under a given backbone revision never changes
either: it is computed once, stored in the data dir (`embeddings/<backbone>-<fingerprint>/`)
and reused by every later training and score. Keys are `data.content_key(prompt, content
hash)`; the directory name carries the backbone's name AND revision (a hash of its weight
files, `backbones.revision`), the max length and what was embedded, so a retrained or
replaced backbone never reads stale vectors.

Storage is append-only, never rewritten:
- `vectors.f32`: rows of float32, appended;
- `keys.txt`: one key per line, appended after its rows are on disk (flushed and fsynced).
A kill mid-write leaves at most rows without keys, or a last key line without its newline:
both are ignored when the cache is read, and the next put starts after the last whole row.
Writers take an exclusive lock on `lock` while appending, so two processes never interleave.
The size is bounded (`max_bytes`): a put that would pass it starts the cache afresh (the
vectors are recomputed on demand), so the data dir never fills up with old embeddings.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

VECTORS = "vectors.f32"
KEYS = "keys.txt"
META = "meta.json"
LOCK = "lock"
MAX_BYTES = 4 << 30          # 4 GiB: ~1.4 M MiniLM vectors, ~700 k SmolLM2 ones


def namespace(backbone: str, **settings) -> str:
    """A directory name for one backbone (name and revision) and embedding setting."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", backbone.strip().rstrip("/").split("/")[-1])[:60] or "backbone"
    fingerprint = hashlib.sha256(json.dumps({"backbone": backbone, **settings}, sort_keys=True).encode())
    return f"{slug}-{fingerprint.hexdigest()[:12]}"


class EmbeddingCache:
    """Vectors by key; `directory=None` keeps them in memory only (nothing is written)."""

    def __init__(self, directory: str | os.PathLike[str] | None, *, max_bytes: int = MAX_BYTES):
        self.directory = Path(directory) if directory is not None else None
        self.max_bytes = max_bytes
        self._chunks: list = []                       # tensors [n, D], in the order rows were added
        self._index: dict[str, tuple[int, int]] = {}  # key -> (chunk, row)
        self._rows_read = 0                           # rows of the files already loaded
        self._dim: int | None = None

    def __len__(self) -> int:
        self._refresh()
        return len(self._index)

    def lookup(self, keys: Sequence[str]):
        """(vectors for the keys found [n, D] or None, the list of keys not found)."""
        self._refresh()
        found = [k for k in keys if k in self._index]
        missing = [k for k in keys if k not in self._index]
        return (self._gather(found) if found else None), missing

    def get_or_compute(self, keys: Sequence[str], compute: Callable[[list[int]], object],
                       chunk: int = 256, progress: Callable[[int, int], None] | None = None):
        """Vectors for `keys` in order [len(keys), D]; `compute(positions)` embeds the ones
        missing (positions into `keys`) and they are stored before returning."""
        import torch

        self.fill(keys, compute, chunk=chunk, progress=progress)
        return self._gather(list(keys)) if len(keys) else torch.zeros((0, 0))

    def missing(self, keys: Sequence[str]) -> list[int]:
        """Positions in `keys` of the first occurrence of each key not stored yet."""
        self._refresh()
        return self._new_rows(list(keys))

    def fill(self, keys: Sequence[str], compute: Callable[[list[int]], object], chunk: int = 256,
             progress: Callable[[int, int], None] | None = None) -> int:
        """Store the vectors of the keys not stored yet, `chunk` at a time (each chunk is on
        disk before the next is computed, so a killed fill resumes where it stopped);
        `progress(done, to_do)` after each. Returns how many were computed."""
        import torch

        todo = self.missing(keys)
        for start in range(0, len(todo), chunk):
            positions = todo[start:start + chunk]
            vectors = compute(positions).detach().to(torch.float32).cpu()
            self.put([keys[p] for p in positions], vectors)
            if progress:
                progress(min(start + chunk, len(todo)), len(todo))
        return len(todo)

    def put(self, keys: Sequence[str], vectors) -> None:
        """Store vectors of keys not stored yet: rows appended, then their keys."""
        import torch

        rows = self._new_rows(list(keys))
        if not rows:
            return
        vectors = vectors.detach().to(torch.float32).cpu()[torch.tensor(rows, dtype=torch.long)].contiguous()
        keys = [list(keys)[i] for i in rows]
        if self.directory is not None:
            keys, vectors = self._append(keys, vectors)
        if keys:
            self._add(keys, vectors)

    def _new_rows(self, keys: list[str]) -> list[int]:
        """Positions of the first occurrence of each key not stored yet."""
        seen: dict[str, int] = {}
        for position, key in enumerate(keys):
            if key not in self._index and key not in seen:
                seen[key] = position
        return list(seen.values())

    # -- files ------------------------------------------------------------------------------

    def _append(self, keys: list[str], vectors):
        """Append under the lock; returns the keys (and rows) that were still new."""
        import fcntl

        import torch

        self.directory.mkdir(parents=True, exist_ok=True)
        dim = int(vectors.shape[1])
        with open(self.directory / LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._refresh()
                still_new = self._new_rows(keys)        # another process may have stored some meanwhile
                if not still_new:
                    return [], vectors[:0]
                keys = [keys[i] for i in still_new]
                vectors = vectors[torch.tensor(still_new, dtype=torch.long)].contiguous()
                keys_path, vectors_path = self.directory / KEYS, self.directory / VECTORS
                whole = self._rows_read * dim * 4
                if whole + vectors.numel() * 4 > self.max_bytes:
                    self._start_afresh(dim)
                    whole = 0
                elif not (self.directory / META).exists():
                    (self.directory / META).write_text(json.dumps({"dim": dim}))
                vectors_path.touch()
                with open(vectors_path, "r+b") as handle:
                    handle.truncate(whole)          # drop rows a killed writer left without keys
                    handle.seek(whole)
                    handle.write(vectors.numpy().tobytes())
                    handle.flush()
                    os.fsync(handle.fileno())
                keys_path.touch()
                with open(keys_path, "r+b") as handle:
                    handle.truncate(self._keys_end(handle))   # a key line a killed writer left half-written
                    handle.seek(0, os.SEEK_END)
                    handle.write("".join(f"{k}\n" for k in keys).encode("utf-8"))
                    handle.flush()
                    os.fsync(handle.fileno())
                self._rows_read += len(keys)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return keys, vectors

    def _keys_end(self, handle) -> int:
        """The byte offset just after the line of the last whole row's key."""
        data = handle.read()
        end = 0
        for _ in range(self._rows_read):
            end = data.index(b"\n", end) + 1
        return end

    def _start_afresh(self, dim: int) -> None:
        for name in (VECTORS, KEYS):
            (self.directory / name).unlink(missing_ok=True)
        (self.directory / META).write_text(json.dumps({"dim": dim}))
        self._chunks, self._index, self._rows_read = [], {}, 0

    def _whole_keys(self) -> list[str]:
        path = self.directory / KEYS
        if not path.exists():
            return []
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        return lines[:-1]                      # the last piece has no newline: not whole

    def _refresh(self) -> None:
        """Load rows other processes (or an earlier run) appended since the last look."""
        import numpy as np
        import torch

        if self.directory is None or not (self.directory / META).exists():
            return
        dim = json.loads((self.directory / META).read_text())["dim"]
        keys = self._whole_keys()
        vectors_path = self.directory / VECTORS
        size = vectors_path.stat().st_size if vectors_path.exists() else 0
        rows = min(len(keys), size // (dim * 4))
        if rows < self._rows_read:             # started afresh by another process
            self._chunks, self._index, self._rows_read = [], {}, 0
        if rows == self._rows_read:
            return
        with open(vectors_path, "rb") as handle:
            handle.seek(self._rows_read * dim * 4)
            data = np.frombuffer(handle.read((rows - self._rows_read) * dim * 4), dtype=np.float32)
        self._add(keys[self._rows_read:rows], torch.from_numpy(data.copy()).reshape(-1, dim))
        self._rows_read = rows

    # -- memory -----------------------------------------------------------------------------

    def _add(self, keys: list[str], vectors) -> None:
        number = len(self._chunks)
        self._chunks.append(vectors)
        for row, key in enumerate(keys):
            self._index.setdefault(key, (number, row))

    def _gather(self, keys: list[str]):
        import torch

        places = [self._index[k] for k in keys]
        return torch.stack([self._chunks[c][r] for c, r in places])

    def disk_bytes(self) -> int:
        """Bytes the cache takes on disk (0 in memory)."""
        if self.directory is None:
            return 0
        return sum((self.directory / n).stat().st_size for n in (VECTORS, KEYS) if (self.directory / n).exists())
