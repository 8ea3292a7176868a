"""The frozen-backbone embedding cache behind head mode.

A generation never changes, so its embedding under a given backbone never changes either:
it is computed once, stored in the data dir (`embeddings/<backbone>-<fingerprint>/`) and
reused by every later training and score. Keys are `data.content_key(prompt, content
hash)`; the directory name carries the backbone, the max length and what was embedded, so
a different setting never reads stale vectors.

Storage is append-only safetensors shards, each written to a temporary name and renamed, so
a crash never leaves a half-written shard and two processes never overwrite each other.
Many small shards are merged into one now and then.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

MERGE_AFTER_SHARDS = 16


def namespace(backbone: str, **settings) -> str:
    """A directory name for one backbone and embedding setting."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", backbone.strip().rstrip("/").split("/")[-1])[:60] or "backbone"
    fingerprint = hashlib.sha256(json.dumps({"backbone": backbone, **settings}, sort_keys=True).encode())
    return f"{slug}-{fingerprint.hexdigest()[:12]}"


class EmbeddingCache:
    """Vectors by key; `directory=None` keeps them in memory only (nothing is written)."""

    def __init__(self, directory: str | os.PathLike[str] | None):
        self.directory = Path(directory) if directory is not None else None
        self._vectors = None          # torch tensor [N, D] of every vector loaded
        self._index: dict[str, int] = {}
        self._loaded: set[str] = set()

    def __len__(self) -> int:
        self._refresh()
        return len(self._index)

    def lookup(self, keys: Sequence[str]):
        """(vectors for the keys found [n, D] or None, the list of keys not found)."""
        import torch

        self._refresh()
        rows = [self._index[k] for k in keys if k in self._index]
        missing = [k for k in keys if k not in self._index]
        found = self._vectors[torch.tensor(rows, dtype=torch.long)] if rows else None
        return found, missing

    def get_or_compute(self, keys: Sequence[str], compute: Callable[[list[int]], object],
                       chunk: int = 256, progress: Callable[[int, int], None] | None = None):
        """Vectors for `keys` in order [len(keys), D]; `compute(positions)` embeds the ones
        missing (positions into `keys`) and they are stored before returning."""
        import torch

        self._refresh()
        wanted = {}
        for position, key in enumerate(keys):
            if key not in self._index and key not in wanted:
                wanted[key] = position
        todo = list(wanted.values())
        for start in range(0, len(todo), chunk):
            positions = todo[start:start + chunk]
            vectors = compute(positions).detach().to(torch.float32).cpu()
            self.put([keys[p] for p in positions], vectors)
            if progress:
                progress(min(start + chunk, len(todo)), len(todo))
        rows = torch.tensor([self._index[k] for k in keys], dtype=torch.long)
        return self._vectors[rows] if len(keys) else torch.zeros((0, 0))

    def put(self, keys: Sequence[str], vectors) -> None:
        """Store new vectors (one shard, written atomically)."""
        from safetensors.torch import save_file

        if not keys:
            return
        if self.directory is None:
            self._add(f"memory-{len(self._loaded)}", list(keys), vectors)
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"shard-{uuid.uuid4().hex}.safetensors"
        temporary = self.directory / f".{name}.tmp"
        save_file({"vectors": vectors.contiguous()}, str(temporary), metadata={"keys": json.dumps(list(keys))})
        os.replace(temporary, self.directory / name)
        self._add(name, list(keys), vectors)
        if len(self._loaded) > MERGE_AFTER_SHARDS:
            self._merge()

    def _shards(self) -> list[str]:
        if self.directory is None or not self.directory.is_dir():
            return []
        return sorted(p.name for p in self.directory.glob("shard-*.safetensors"))

    def _refresh(self) -> None:
        from safetensors import safe_open

        for name in self._shards():
            if name in self._loaded:
                continue
            try:
                with safe_open(str(self.directory / name), framework="pt") as handle:
                    keys = json.loads(handle.metadata()["keys"])
                    vectors = handle.get_tensor("vectors")
            except FileNotFoundError:   # merged away by another process meanwhile
                continue
            self._add(name, keys, vectors)

    def _add(self, name: str, keys: list[str], vectors) -> None:
        import torch

        self._loaded.add(name)
        new = [(k, i) for i, k in enumerate(keys) if k not in self._index]
        if not new:
            return
        rows = vectors[torch.tensor([i for _, i in new], dtype=torch.long)]
        start = 0 if self._vectors is None else len(self._vectors)
        self._vectors = rows if self._vectors is None else torch.cat([self._vectors, rows])
        for offset, (key, _) in enumerate(new):
            self._index[key] = start + offset

    def _merge(self) -> None:
        """Rewrite every loaded vector as one shard, then drop the old shards."""
        from safetensors.torch import save_file

        old = [n for n in self._shards() if n in self._loaded]
        keys = sorted(self._index, key=self._index.__getitem__)
        name = f"shard-{uuid.uuid4().hex}.safetensors"
        temporary = self.directory / f".{name}.tmp"
        save_file({"vectors": self._vectors.contiguous()}, str(temporary), metadata={"keys": json.dumps(keys)})
        os.replace(temporary, self.directory / name)
        self._loaded.add(name)
        for shard in old:
            (self.directory / shard).unlink(missing_ok=True)
            self._loaded.discard(shard)
