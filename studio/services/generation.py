"""Making outputs and storing them: bulk generation for prompts, and the free prompt a rater
types (two contenders answer it at once, streamed). An image is written to the artifact
store before its row (a file without a row is harmless, a row without its file is not)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterator, Sequence

from studio.artifacts import ArtifactStore
from studio.config import StudioConfig
from studio.errors import InputError, NotFoundError
from studio.generation.base import GENERATING_BACKENDS, Output, Request, derive_seed
from studio.generation.pool import FREE_PROMPT_SET
from studio.generation.streaming import FreePromptUpdate
from studio.records import GenerationIn, PromptIn, as_id
from studio.services.generators import Generators
from studio.store import Store


class GenerationService:
    def __init__(self, store: Store, config: StudioConfig, generators: Generators, artifacts: ArtifactStore):
        self.store = store
        self.config = config
        self.generators = generators
        self.artifacts = artifacts

    def generate(self, contender: str, prompts: Sequence[int] | None = None, *, prompt_set: str | None = None,
                 n_per_prompt: int = 1, seed: int | None = None,
                 progress: bool | Callable[[int, int], None] | None = None) -> list[int]:
        """`n_per_prompt` outputs of `contender` for each prompt, in batches; generation ids,
        prompt by prompt. Finished batches are kept if a later one fails."""
        from studio.progress import bar

        if n_per_prompt < 1:
            raise InputError(f"n_per_prompt must be at least 1, got {n_per_prompt}")
        generator = self.generators.get(contender)
        with self.store.reader() as tx:
            record = tx.contenders.get(contender)
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

                ids += self.save_outputs(record.id, generator.generate(chunk, batch_size=batch,
                                                                       on_progress=advanced))
        return ids

    def free_prompt(self, prompt: str, rater: str, *,
                    contenders: tuple[str, str] | None = None) -> Iterator[FreePromptUpdate]:
        """Both contenders' answers as they grow (sides already in display order); the last
        update carries the rating item, assigned to this rater."""
        from studio.generation.streaming import stream_pair

        text = prompt.strip()
        if not text:
            raise InputError("type a prompt first")
        if not rater or not rater.strip():
            raise InputError("a free prompt needs a rater name")
        names = tuple(contenders) if contenders else self._free_prompt_pair()
        if len(names) != 2 or names[0] == names[1]:
            raise InputError(f"a free prompt is answered by two different contenders, got {names}")
        specs = [self.generators.spec(n) for n in names]
        for spec in specs:
            if spec.kind != "text":
                raise InputError(f"contender {spec.name!r} makes images; free prompts compare text contenders")
        rng = random.Random()
        if rng.random() < 0.5:
            specs.reverse()            # sides are random, as for pool items
        loaded = (self.generators.load(specs[0], retry_failed=True), self.generators.load(specs[1], retry_failed=True))
        with self.store.transaction() as tx:
            prompt_id = tx.prompts.add([PromptIn(text=text, prompt_set=FREE_PROMPT_SET, source=f"free:{rater}")])[0]
            record = tx.prompts.get(prompt_id)
        seeds = (rng.randrange(2**31), rng.randrange(2**31))
        requests = tuple(Request(prompt=record.text, seed=s, system_prompt=record.system_prompt, key=prompt_id)
                         for s in seeds)
        for (left, right), outputs in stream_pair(loaded, requests):
            if outputs is None:
                yield FreePromptUpdate(left=left, right=right)
                continue
            with self.store.transaction() as tx:
                ids = tx.generations.add([self.generation_in(tx.contenders.get(s.name).id, o)
                                          for s, o in zip(specs, outputs, strict=True)])
                item = tx.items.create(prompt_id, ids, prompt_set=FREE_PROMPT_SET, votes_wanted=1, source="free")
                tx.items.assign(item.id, tx.raters.ensure(rater).id)
                view = tx.items.view(item)
            yield FreePromptUpdate(left=left, right=right, done=True, item=view)

    def generation_in(self, contender_id: int, output: Output) -> GenerationIn:
        """The row for an output; an image goes into the artifact store first."""
        media_path = digest = None
        if output.image_png is not None:
            media_path, digest = self.artifacts.put_media(output.image_png)
        return GenerationIn(prompt_id=output.request.key, contender_id=contender_id, text=output.text,
                            media_path=media_path, content_sha256=digest, seed=output.request.seed,
                            params=output.params, latency_ms=output.latency_ms)

    def save_outputs(self, contender_id: int, outputs: Sequence[Output]) -> list[int]:
        rows = [self.generation_in(contender_id, o) for o in outputs]
        with self.store.transaction() as tx:
            return tx.generations.add(rows)

    def _free_prompt_pair(self) -> tuple[str, str]:
        with self.store.reader() as tx:
            names = [c.name for c in tx.contenders.list(kind="text", enabled_only=True)
                     if c.backend in GENERATING_BACKENDS]
        if len(names) < 2:
            raise InputError("free prompts need two enabled text contenders: add them with "
                             "`studio contenders add NAME --model MODEL`")
        return tuple(random.sample(names, 2))
