"""What every generator shares: requests in, outputs out, seeds explicit, device chosen once.

A *generator* is a loaded model plus one contender's settings. It takes `Request`s (a prompt
and the seed to sample it with) and returns one `Output` per request, in order, batching
internally. Generators never touch the database: the facade stores what they return.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from studio.contender_spec import ContenderSpec

# Backends that can produce outputs (the others hold imported outputs only).
GENERATING_BACKENDS = ("transformers", "diffusers", "best_of_n")

# Called between batches; True asks the generator to stop early (a pool being shut down).
ShouldStop = Callable[[], bool]
# Told (outputs done, outputs wanted) after each batch.
OnProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class Request:
    """One output to make: the prompt, the seed it is sampled with, and a caller's handle."""

    prompt: str
    seed: int
    system_prompt: str | None = None
    key: Any = None                     # e.g. the prompt id; carried to the output untouched


@dataclass(frozen=True)
class Output:
    request: Request
    text: str | None = None
    image_png: bytes | None = None      # an image contender's output, PNG-encoded
    params: dict[str, Any] = field(default_factory=dict)
    latency_ms: float = 0.0             # wall time of the batch that made it
    new_tokens: int = 0                 # generated tokens (text), padding excluded


class Generator(Protocol):
    """A contender ready to generate."""

    kind: str                           # "text" | "image"
    spec: ContenderSpec

    def generate(self, requests: Sequence[Request], *, batch_size: int = 8,
                 should_stop: ShouldStop | None = None,
                 on_progress: OnProgress | None = None) -> list[Output]:
        """One output per request, in request order. Stopping early returns the outputs made."""
        ...


class Stopped(Exception):
    """Raised inside a generator when `should_stop` turned true; nothing partial is kept."""


def derive_seed(*parts: Any) -> int:
    """A stable 31-bit seed from any parts (a base seed, a prompt id, a sample index...)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


@dataclass(frozen=True)
class Device:
    name: str                           # "cuda" | "cpu"
    dtype: Any                          # torch.bfloat16 on CUDA, torch.float32 on CPU


@cache
def choose_device() -> Device:
    """CUDA in bfloat16 when present, else the CPU in float32. Decided once per process."""
    import torch

    if torch.cuda.is_available():
        return Device("cuda", torch.bfloat16)
    return Device("cpu", torch.float32)


def looks_like_path(model: str) -> bool:
    """A model string meant as a local directory rather than a hub id."""
    return model.startswith(("/", "./", "../", "~")) or Path(model).expanduser().exists()


class LoadedModels:
    """Models loaded once per process and shared by every contender that names them
    (two contenders on one model at two temperatures hold one copy). Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str], Any] = {}

    def get(self, key: tuple[str, str], load: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._models:
                self._models[key] = load()
            return self._models[key]

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
