"""Contenders' generators: each model loaded once per process and shared by the contenders
that name it; a model that failed to load is not retried for a minute (the pool asks often);
best-of-n contenders get the active reward model as their scorer.

    generators.get("smol-precise")        # a Generator, or ModelLoadError naming what to do
    generators.for_pool()                 # every enabled generating contender, and the failures
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from studio.artifacts import ArtifactStore
from studio.config import StudioConfig
from studio.contender_spec import ContenderSpec
from studio.errors import InputError, ModelLoadError, NotFoundError, StudioError
from studio.generation.base import GENERATING_BACKENDS, Generator, LoadedModels
from studio.records import ContenderRecord
from studio.services.registry import RewardRegistry
from studio.store import Store

# A contender whose model failed to load is retried by the pool after this long.
LOAD_RETRY_S = 60.0
NO_CONTENDERS = "pool"


def spec_of(record: ContenderRecord) -> ContenderSpec:
    return ContenderSpec(name=record.name, kind=record.kind, backend=record.backend, model=record.model,
                         params=dict(record.params))


class Generators:
    def __init__(self, store: Store, config: StudioConfig, registry: RewardRegistry,
                 artifacts: ArtifactStore | None = None):
        self.store = store
        self.config = config
        self.registry = registry
        self.artifacts = artifacts or registry.artifacts
        self.models = LoadedModels()
        self._failures: dict[str, tuple[float, str, StudioError]] = {}
        self._failures_lock = threading.Lock()

    def get(self, contender: str) -> Generator:
        """The contender's generator (loading its model now if needed)."""
        return self.load(self.spec(contender), retry_failed=True)

    def spec(self, name: str) -> ContenderSpec:
        """A generating contender's spec; refused for one that holds imported outputs."""
        with self.store.reader() as tx:
            record = tx.contenders.get(name)
        if record is None:
            raise NotFoundError(f"no contender named {name!r}: see `studio stats` or add it to studio.toml")
        if record.backend not in GENERATING_BACKENDS:
            raise InputError(f"contender {name!r} holds imported outputs and cannot generate; "
                             "declare a model for a new contender with `studio contenders add`")
        return spec_of(record)

    def load(self, spec: ContenderSpec, *, retry_failed: bool = False, _chain: tuple[str, ...] = ()) -> Generator:
        """Load a contender's generator; a recent failure is re-raised unless `retry_failed`."""
        with self._failures_lock:
            failed = self._failures.get(spec.name)
        if failed and not retry_failed and failed[1] == spec.model and time.monotonic() - failed[0] < LOAD_RETRY_S:
            raise failed[2]
        try:
            generator = self._build(spec, _chain)
        except StudioError as exc:
            with self._failures_lock:
                self._failures[spec.name] = (time.monotonic(), spec.model, exc)
            raise
        with self._failures_lock:
            self._failures.pop(spec.name, None)
        return generator

    def for_pool(self) -> tuple[dict[int, Generator], dict[str, str]]:
        """Generators of every enabled contender that can generate, by contender id; the ones
        that failed become problems (contender name -> why)."""
        with self.store.reader() as tx:
            records = [c for c in tx.contenders.list(enabled_only=True) if c.backend in GENERATING_BACKENDS]
        generators: dict[int, Generator] = {}
        problems: dict[str, str] = {}
        for record in records:
            try:
                generators[record.id] = self.load(spec_of(record))
            except StudioError as exc:
                problems[record.name] = str(exc)
        text = [g for g in generators.values() if g.kind == "text"]
        if len(text) < 2 and not any(g.kind == "image" for g in generators.values()):
            problems[NO_CONTENDERS] = ("the pool needs two working text contenders or one image contender: "
                                       "add them with `studio contenders add NAME --model MODEL`")
        return generators, problems

    def _build(self, spec: ContenderSpec, chain: tuple[str, ...]) -> Generator:
        if spec.backend == "transformers":
            from studio.generation.text import load_text

            adapter = spec.params.get("adapter")
            return load_text(spec, self.config.cache_dir, self.models,
                             adapter_dir=self.adapter_dir(spec.name, adapter) if adapter else None)
        if spec.backend == "diffusers":
            from studio.generation.image import load_image

            return load_image(spec, self.config.cache_dir, self.models)
        from studio.generation.best_of_n import BestOfN

        base_name = spec.params["base"]
        if base_name in (*chain, spec.name):
            raise InputError(f"contender {spec.name!r}: best_of_n base {base_name!r} leads back to itself")
        base_spec = self.spec(base_name)
        scorer, why_not = self._best_of_n_scorer(spec, base_spec.kind)
        base = self.load(base_spec, _chain=(*chain, spec.name))
        return BestOfN(spec, base, scorer, fallback=why_not)

    def adapter_dir(self, contender: str, adapter: str) -> Path:
        """The local directory of a contender's adapter: an artifact key (an improved
        version's) or a directory given by hand."""
        given = Path(adapter).expanduser()
        if given.is_absolute() and given.is_dir():
            return given
        try:
            return self.artifacts.tree(adapter)      # an object store downloads it once into the cache
        except StudioError as exc:
            raise ModelLoadError(f"contender {contender!r}: adapter {adapter!r}: {exc}") from exc

    def _best_of_n_scorer(self, spec: ContenderSpec, kind: str = "text") -> tuple[Callable[[str, list], list[float]] | None, str]:
        """(the scorer, "") from a reward model that passed the activation gate, or (None, why
        not): best-of-n then falls back to its base contender. "active" means the active
        model of the base's kind of output (text responses, or PNG images)."""
        which = spec.params.get("reward_model", "active")
        if str(which).strip().lower() == "active" and kind == "image":
            active = self.registry.active_record("image")
            if active is None:
                return None, "no active image reward model yet: train one (`studio train --kind image`)"
            which = active.version
        model, why_not = self.registry.steering_model(which)
        if model is None:
            return None, why_not
        if kind == "image":
            return (lambda prompt, images: list(model.score_images(prompt, [_image(png) for png in images]))), ""
        return (lambda prompt, responses: list(model.score_batch([prompt] * len(responses), list(responses)))), ""


def _image(png: bytes):
    from io import BytesIO

    from PIL import Image

    return Image.open(BytesIO(png)).convert("RGB")
