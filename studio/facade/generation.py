"""`Studio` methods that make outputs: contenders that generate, bulk pre-generation, free
prompts typed by a rater, and declaring contenders in studio.toml."""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from studio.config import ContenderSpec, contender_from_dict
from studio.errors import InputError, NotFoundError, StudioError
from studio.generation.base import (
    GENERATING_BACKENDS,
    Generator,
    LoadedModels,
    Output,
    Request,
    derive_seed,
)
from studio.generation.streaming import FreePromptUpdate
from studio.records import ContenderRecord, GenerationIn, PromptIn, as_id

# A contender whose model failed to load is retried by the pool after this long.
LOAD_RETRY_S = 60.0
_LAZY = threading.Lock()


def spec_of(record: ContenderRecord) -> ContenderSpec:
    return ContenderSpec(name=record.name, kind=record.kind, backend=record.backend, model=record.model,
                         params=dict(record.params))


class GenerationFacade:
    # -- contenders ------------------------------------------------------------------------

    def declare_contender(self, name: str, *, model: str, kind: str | None = None, backend: str | None = None,
                          params: dict[str, Any] | None = None) -> ContenderRecord:
        """Append a `[[contenders]]` table to the data dir's studio.toml (validated by the
        same code that reads it; the file is unchanged on error) and register it."""
        from studio.generation.contender_file import append_contender

        backend = backend or ("diffusers" if kind == "image" else "transformers")
        declared: dict[str, Any] = {"name": name, "backend": backend, "model": model, "params": params or {}}
        if kind is not None:
            declared["kind"] = kind
        spec = contender_from_dict(declared, where=str(self.config.config_file))
        append_contender(self.config.config_file, spec)
        self.config = self.config.replace(contenders=(*self.config.contenders, spec))
        return self.add_contender(spec)

    def generator(self, contender: str) -> Generator:
        """The contender's model, loaded once per studio and shared by contenders naming
        the same model. Raises `ModelLoadError` naming the contender and what to do."""
        return self._generator(self._generating_spec(contender), retry_failed=True)

    # -- bulk generation -------------------------------------------------------------------

    def generate(self, contender: str, prompts: Sequence[int] | None = None, *, prompt_set: str | None = None,
                 n_per_prompt: int = 1, seed: int | None = None,
                 progress: bool | Callable[[int, int], None] | None = None) -> list[int]:
        """Generate `n_per_prompt` outputs of `contender` for each prompt (ids, or every prompt
        of `prompt_set`, or every prompt) in batches; returns generation ids, prompt by prompt.
        Each output's seed (derived from `seed`, random when None), the settings and the
        latency are stored with it. Finished batches are kept if a later one fails."""
        from studio.progress import bar

        if n_per_prompt < 1:
            raise InputError(f"n_per_prompt must be at least 1, got {n_per_prompt}")
        record = self.contender(contender)
        generator = self.generator(contender)
        with self.store.reader() as tx:
            if prompts is None:
                records = tx.prompts.list(prompt_set)
            else:
                prompts = [as_id(i, "prompt id") for i in prompts]
                records = [tx.prompts.get(i) for i in prompts]
                missing = [i for i, r in zip(prompts, records, strict=True) if r is None]
                if missing:
                    raise NotFoundError(f"no prompt with id {missing[0]}")
        base = secrets.randbelow(2**31) if seed is None else seed
        requests = [Request(prompt=p.text, seed=derive_seed(base, p.id, k), system_prompt=p.system_prompt, key=p.id)
                    for p in records for k in range(n_per_prompt)]
        batch = self.config.pool.batch_size
        ids: list[int] = []
        with bar(total=len(requests), desc=f"generating {contender}", unit="output",
                 enabled=progress if isinstance(progress, bool) else None) as shown:
            for start in range(0, len(requests), batch * 8):
                chunk = requests[start:start + batch * 8]
                before = len(ids)

                def advanced(done: int, total: int, before=before) -> None:
                    shown.n = before + done
                    shown.refresh()
                    if callable(progress):
                        progress(before + done, len(requests))

                ids += self._save_outputs(record.id, generator.generate(chunk, batch_size=batch,
                                                                        on_progress=advanced))
        return ids

    # -- free prompts ----------------------------------------------------------------------

    def free_prompt(self, prompt: str, rater: str, *,
                    contenders: tuple[str, str] | None = None) -> Iterator[FreePromptUpdate]:
        """Answer a prompt the rater typed with two contenders at once, yielding both texts as
        they grow (sides already in display order). The last update carries the rating item,
        shown to this rater and voted on like any other pair."""
        from studio.generation.pool import FREE_PROMPT_SET
        from studio.generation.streaming import stream_pair

        text = prompt.strip()
        if not text:
            raise InputError("type a prompt first")
        if not rater or not rater.strip():
            raise InputError("a free prompt needs a rater name")
        names = tuple(contenders) if contenders else self._free_prompt_pair()
        if len(names) != 2 or names[0] == names[1]:
            raise InputError(f"a free prompt is answered by two different contenders, got {names}")
        specs = [self._generating_spec(n) for n in names]
        for spec in specs:
            if spec.kind != "text":
                raise InputError(f"contender {spec.name!r} makes images; free prompts compare text contenders")
        rng = random.Random()
        if rng.random() < 0.5:
            specs.reverse()            # sides are random, as for pool items
        generators = (self._generator(specs[0], retry_failed=True), self._generator(specs[1], retry_failed=True))
        with self.store.transaction() as tx:
            prompt_id = tx.prompts.add([PromptIn(text=text, prompt_set=FREE_PROMPT_SET, source=f"free:{rater}")])[0]
            record = tx.prompts.get(prompt_id)
        seeds = (rng.randrange(2**31), rng.randrange(2**31))
        requests = tuple(Request(prompt=record.text, seed=s, system_prompt=record.system_prompt, key=prompt_id)
                         for s in seeds)
        for (left, right), outputs in stream_pair(generators, requests):
            if outputs is None:
                yield FreePromptUpdate(left=left, right=right)
                continue
            with self.store.transaction() as tx:
                ids = tx.generations.add([self._generation_in(tx.contenders.get(s.name).id, o)
                                          for s, o in zip(specs, outputs, strict=True)])
                item = tx.items.create(prompt_id, ids, prompt_set=FREE_PROMPT_SET, votes_wanted=1, source="free")
                tx.items.assign(item.id, tx.raters.ensure(rater).id)
                view = tx.items.view(item)
            yield FreePromptUpdate(left=left, right=right, done=True, item=view)

    def _free_prompt_pair(self) -> tuple[str, str]:
        with self.store.reader() as tx:
            names = [c.name for c in tx.contenders.list(kind="text", enabled_only=True)
                     if c.backend in GENERATING_BACKENDS]
        if len(names) < 2:
            raise InputError("free prompts need two enabled text contenders: add them with "
                             "`studio contenders add NAME --model MODEL`")
        return tuple(random.sample(names, 2))

    # -- internals -------------------------------------------------------------------------

    def _lazy(self, name: str, factory: Callable[[], Any]) -> Any:
        value = self.__dict__.get(name)
        if value is None:
            with _LAZY:
                value = self.__dict__.setdefault(name, factory())
        return value

    @property
    def _loaded_models(self) -> LoadedModels:
        return self._lazy("_studio_loaded_models", LoadedModels)

    @property
    def _load_failures(self) -> dict[str, tuple[float, str, StudioError]]:
        return self._lazy("_studio_load_failures", dict)

    def _generating_spec(self, name: str) -> ContenderSpec:
        record = self.contender(name)
        if record.backend not in GENERATING_BACKENDS:
            raise InputError(f"contender {name!r} holds imported outputs and cannot generate; "
                             "declare a model for a new contender with `studio contenders add`")
        return spec_of(record)

    def _generator(self, spec: ContenderSpec, *, retry_failed: bool = False, _chain: tuple[str, ...] = ()) -> Generator:
        """Load a contender's generator; a recent failure is re-raised unless `retry_failed`."""
        failures = self._load_failures
        failed = failures.get(spec.name)
        if failed and not retry_failed and failed[1] == spec.model and time.monotonic() - failed[0] < LOAD_RETRY_S:
            raise failed[2]
        try:
            generator = self._build_generator(spec, _chain)
        except StudioError as exc:
            failures[spec.name] = (time.monotonic(), spec.model, exc)
            raise
        failures.pop(spec.name, None)
        return generator

    def _build_generator(self, spec: ContenderSpec, chain: tuple[str, ...]) -> Generator:
        if spec.backend == "transformers":
            from studio.generation.text import load_text

            return load_text(spec, self.config.cache_dir, self._loaded_models)
        if spec.backend == "diffusers":
            from studio.generation.image import load_image

            return load_image(spec, self.config.cache_dir, self._loaded_models)
        from studio.generation.best_of_n import BestOfN

        base_name = spec.params["base"]
        if base_name in (*chain, spec.name):
            raise InputError(f"contender {spec.name!r}: best_of_n base {base_name!r} leads back to itself")
        scorer = self._best_of_n_scorer(spec)       # refused before any model is loaded
        base = self._generator(self._generating_spec(base_name), _chain=(*chain, spec.name))
        return BestOfN(spec, base, scorer)

    def _best_of_n_scorer(self, spec: ContenderSpec) -> Callable[[str, list[str]], list[float]]:
        which = spec.params.get("reward_model", "active")
        getter = getattr(self, "reward_model", None)
        model, reason = None, "the studio has no reward models"
        if getter is not None:
            try:
                model = getter(which)
            except NotFoundError as exc:
                reason = str(exc)
        if model is None:
            raise StudioError(f"contender {spec.name!r} (best_of_n) needs the reward model {which!r}: {reason}")
        return lambda prompt, responses: list(model.score_batch([prompt] * len(responses), list(responses)))

    def _generation_in(self, contender_id: int, output: Output) -> GenerationIn:
        """The row for an output; an image is written to media/ first (a file without a row
        is harmless, a row without its file is not)."""
        media_path = digest = None
        if output.image_png is not None:
            from studio.generation.media import store_media

            media_path, digest = store_media(self.config.data_dir, output.image_png)
        return GenerationIn(prompt_id=output.request.key, contender_id=contender_id, text=output.text,
                            media_path=media_path, content_sha256=digest, seed=output.request.seed,
                            params=output.params, latency_ms=output.latency_ms)

    def _save_outputs(self, contender_id: int, outputs: Sequence[Output]) -> list[int]:
        rows = [self._generation_in(contender_id, o) for o in outputs]
        with self.store.transaction() as tx:
            return tx.generations.add(rows)
