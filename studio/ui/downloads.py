"""Files the UI hands to a browser (the Data tab's exports).

Gradio serves its own copy of a returned file (from its cache, which `delete_cache` on the
Blocks prunes), so the studio's file is only needed until Gradio has copied it. Each one is
written in its own private folder under one folder per server process; folders older than
`keep_s` go when the next download is made, and the whole folder goes when the process exits.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import time
from pathlib import Path


class Downloads:
    def __init__(self, keep_s: float = 3600.0, root: Path | None = None):
        self.keep_s = keep_s
        self._root = root
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        with self._lock:
            if self._root is None:   # made on first use: most servers never export from the page
                self._root = Path(tempfile.mkdtemp(prefix="studio-downloads-"))
                atexit.register(self.close)
            return self._root

    def new_file(self, name: str) -> Path:
        """A path for a new download named `name`, in a fresh folder only this process reads."""
        self.prune()
        return Path(tempfile.mkdtemp(dir=self.root)) / name

    def prune(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        for folder in list(self.root.iterdir()):
            try:
                old = now - folder.stat().st_mtime > self.keep_s
            except FileNotFoundError:   # another thread pruned it first
                continue
            if old:
                shutil.rmtree(folder, ignore_errors=True)

    def close(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
