"""The pool of ready rating items. `refill` is one step: read what is missing, generate it
in batches (no transaction is open while models run), then write the outputs and the items
in one transaction. Contenders that fail to load are skipped and the reason recorded (see
`status`). A `studio.jobs.PoolWorker` calls `refill` from a background thread."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

from studio.config import StudioConfig
from studio.generation.base import Generator, Output, Request, Stopped
from studio.generation.pool import (
    FREE_PROMPT_SET,
    Filled,
    NewOutput,
    PoolStatus,
    choose_prompts,
    display_order,
    fill_items,
)
from studio.generation.versus_parent import versus_parent
from studio.services.generation import GenerationService
from studio.services.generators import Generators
from studio.services.pair_choice import PairChooser
from studio.store import Store


class PoolService:
    def __init__(self, store: Store, config: StudioConfig, generators: Generators, generation: GenerationService,
                 pair_choice: PairChooser | None = None):
        self.store = store
        self.config = config
        self.generators = generators
        self.generation = generation
        self.pair_choice = pair_choice or PairChooser(store, config)   # which contender pairs next
        # Set by the studio when `[pool] on_workers`: called with the prompt sets short of
        # items (and min_ready) instead of generating here; workers make the items.
        self.on_workers: Callable[[list[str], int], object] | None = None
        self._lock = threading.Lock()

    def refill(self, prompt_set: str | None = None, *, min_ready: int | None = None,
               should_stop: Callable[[], bool] | None = None) -> int:
        """Top up every prompt set (or one) to at least `min_ready` ready items; returns how
        many items were made."""
        wanted = self.config.pool.min_ready if min_ready is None else min_ready
        with self._lock:
            with self.store.reader() as tx:
                sets = [prompt_set] if prompt_set is not None else \
                    [s for s in tx.prompts.sets() if s != FREE_PROMPT_SET]
                deficits = {s: wanted - tx.items.ready_count(s) for s in sets}
                known_problems = tx.pool.problems()
            deficits = {s: d for s, d in deficits.items() if d > 0}
            if not deficits:
                return 0
            if self.on_workers is not None:
                self.on_workers(sorted(deficits), wanted)
                return 0
            generators, problems = self.generators.for_pool()
            created = 0
            for name, deficit in deficits.items():
                created += self._refill_set(name, deficit, generators, problems, should_stop)
            if problems != known_problems:
                with self.store.transaction() as tx:
                    tx.pool.set_problems(problems)
        return created

    def status(self) -> PoolStatus:
        """Ready items per prompt set, and why any contender is left out of the pool."""
        with self.store.reader() as tx:
            sets = [s for s in tx.prompts.sets() if s != FREE_PROMPT_SET]
            return PoolStatus(min_ready=self.config.pool.min_ready,
                              ready={s: tx.items.ready_count(s) for s in sets}, problems=tx.pool.problems())

    def _refill_set(self, prompt_set: str, deficit: int, generators: dict[int, Generator],
                    problems: dict[str, str], should_stop: Callable[[], bool] | None) -> int:
        text_ids = [i for i, g in generators.items() if g.kind == "text"]
        image_ids = [i for i, g in generators.items() if g.kind == "image"]
        with self.store.reader() as tx:
            coverage = tx.pool.coverage(prompt_set)
            prompt_ids = choose_prompts(deficit, coverage)
            items = tx.items.for_prompts(prompt_ids)
            contender_of = tx.pool.contenders_of([g for item in items for g in item.generation_ids])
            existing = tx.pool.generations_for(prompt_ids, list(generators))
            prompts = {i: tx.prompts.get(i) for i in set(prompt_ids)}
            parents = tx.contenders.parents()
        pairs_used: dict[int, Counter] = defaultdict(Counter)
        for item in items:
            if item.shape == "pair":
                pairs_used[item.prompt_id][frozenset(contender_of[g] for g in item.generation_ids)] += 1
        rotation = sum(count for _, count in coverage)
        planned = self.pair_choice.plan(prompt_ids, text_contenders=text_ids, image_contenders=image_ids,
                                        pairs_used=pairs_used, rotation=rotation)
        planned = versus_parent(planned, parents, text_ids, share=self.config.pool.versus_parent_share,
                                rotation=rotation)
        pool_seed = self.config.pool.seed
        filled = fill_items(planned, existing, {g for item in items for g in item.generation_ids},
                            pool_seed=pool_seed)
        rng = random.Random(f"{pool_seed}:{prompt_set}:{rotation}")
        batch = max(1, self.config.pool.batch_size)
        created = 0
        for start in range(0, len(filled), batch):       # items appear batch by batch
            chunk = filled[start:start + batch]
            made = self._generate_missing(chunk, generators, prompts, problems, should_stop)
            if should_stop and should_stop():
                raise Stopped()
            created += self._write_items(prompt_set, chunk, made, rng)
        return created

    def _write_items(self, prompt_set: str, filled: Sequence[Filled], made: dict, rng: random.Random) -> int:
        """Store the new outputs and the items they complete, in one transaction."""
        created = 0
        with self.store.transaction() as tx:
            new_ids = dict(zip(made, tx.generations.add(list(made.values())), strict=True))
            for item in filled:
                ids = [new_ids.get(p) if isinstance(p, NewOutput) else p for p in item.places]
                if None in ids or len(set(ids)) != len(ids):
                    continue      # a contender failed, or two seeds gave one identical output
                tx.items.create(item.plan.prompt_id, display_order(ids, rng), prompt_set=prompt_set,
                                votes_wanted=self.config.pool.votes_per_pair, source="pool")
                created += 1
        return created

    def _generate_missing(self, filled: Sequence[Filled], generators: dict[int, Generator], prompts: dict,
                          problems: dict[str, str], should_stop: Callable[[], bool] | None) -> dict:
        """Generate every `NewOutput` of the plan, batched per contender; returns
        NewOutput -> GenerationIn. A contender that fails is recorded and its items dropped."""
        wanted: dict[int, list[NewOutput]] = defaultdict(list)
        for item in filled:
            for place in item.places:
                if isinstance(place, NewOutput):
                    wanted[place.contender_id].append(place)
        rows = {}
        for contender_id, needed in wanted.items():
            generator = generators[contender_id]
            requests = [Request(prompt=prompts[n.prompt_id].text, seed=n.seed,
                                system_prompt=prompts[n.prompt_id].system_prompt, key=n.prompt_id) for n in needed]
            try:
                outputs: list[Output] = generator.generate(requests, batch_size=self.config.pool.batch_size,
                                                           should_stop=should_stop)
            except Stopped:
                raise
            except Exception as exc:  # a model that breaks mid-run must not stop the others
                problems[generator.spec.name] = f"generation failed: {type(exc).__name__}: {exc}"
                continue
            for new, output in zip(needed, outputs, strict=True):
                rows[new] = self.generation.generation_in(contender_id, output)
        return rows
