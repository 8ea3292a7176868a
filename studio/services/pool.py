"""The pool of ready rating items. `refill` is one step: read what is missing, generate it
in batches (no transaction is open while models run), then write the outputs and the items
in one transaction. Contenders that fail to load are skipped and the reason recorded (see
`status`). A `studio.jobs.PoolWorker` calls `refill` from a background thread."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

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

PACE_ITEMS = 12          # recent pool items the pace is measured over


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def chunks(filled: Sequence[Filled], batch: int, *, empty: bool) -> list[list[Filled]]:
    """Items written batch by batch; into an empty pool the first batches are small (1, 2,
    4, ... items) so a rater gets a pair within seconds of the models loading."""
    size = 1 if empty else batch
    parts, start = [], 0
    while start < len(filled):
        parts.append(list(filled[start:start + size]))
        start += size
        size = min(batch, size * 2)
    return parts


def _with_written(item: Filled, done: dict[NewOutput, int]) -> Filled:
    """The item with outputs an earlier batch already wrote replaced by their ids."""
    return Filled(item.plan, [done.get(p, p) if isinstance(p, NewOutput) else p for p in item.places])


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
               should_stop: Callable[[], bool] | None = None,
               on_written: Callable[[int], None] | None = None) -> int:
        """Top up every prompt set (or one) to at least `min_ready` ready items; returns how
        many items were made. `on_written(n)` hears of each batch of n items as it is stored."""
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
                created += self._refill_set(name, deficit, generators, problems, should_stop,
                                            empty=deficit >= wanted, on_written=on_written)
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

    def pace(self) -> dict[str, float | None]:
        """Seconds between the pool's recent items and since the newest (None: too few)."""
        with self.store.reader() as tx:
            times = tx.items.created_times(source="pool", limit=PACE_ITEMS)
        if not times:
            return {"seconds_per_item": None, "since_last_s": None}
        newest = _aware(times[0])
        since = max(0.0, (datetime.now(UTC) - newest).total_seconds())
        if len(times) < 2:
            return {"seconds_per_item": None, "since_last_s": since}
        span = (newest - _aware(times[-1])).total_seconds()
        return {"seconds_per_item": span / (len(times) - 1), "since_last_s": since}

    def _refill_set(self, prompt_set: str, deficit: int, generators: dict[int, Generator],
                    problems: dict[str, str], should_stop: Callable[[], bool] | None, *, empty: bool = False,
                    on_written: Callable[[int], None] | None = None) -> int:
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
        shown = [item.generation_ids for item in items]
        filled = fill_items(planned, existing, shown, pool_seed=pool_seed,
                            order=self.pair_choice.candidate_order())   # None: coverage order
        rng = random.Random(f"{pool_seed}:{prompt_set}:{rotation}")
        done: dict[NewOutput, int] = {}             # outputs written by an earlier chunk
        shown_pairs = {frozenset(ids) for ids in shown}
        created = 0
        for chunk in chunks(filled, max(1, self.config.pool.batch_size), empty=empty):
            chunk = [_with_written(item, done) for item in chunk]
            made = self._generate_missing(chunk, generators, prompts, problems, should_stop)
            if should_stop and should_stop():
                raise Stopped()
            written = self._write_items(prompt_set, chunk, made, rng, done, shown_pairs)
            created += written
            if on_written and written:
                on_written(written)
        return created

    def _write_items(self, prompt_set: str, filled: Sequence[Filled], made: dict, rng: random.Random,
                     done: dict[NewOutput, int], shown_pairs: set[frozenset]) -> int:
        """Store the new outputs and the items they complete, in one transaction."""
        created = 0
        with self.store.transaction() as tx:
            new_ids = dict(zip(made, tx.generations.add(list(made.values())), strict=True))
            for item in filled:
                ids = [new_ids.get(p) if isinstance(p, NewOutput) else p for p in item.places]
                if None in ids or len(set(ids)) != len(ids) or frozenset(ids) in shown_pairs:
                    continue      # a contender failed, or two seeds gave one identical output
                tx.items.create(item.plan.prompt_id, display_order(ids, rng), prompt_set=prompt_set,
                                votes_wanted=self.config.pool.votes_per_pair, source="pool")
                shown_pairs.add(frozenset(ids))
                created += 1
        done.update(new_ids)
        return created

    def _generate_missing(self, filled: Sequence[Filled], generators: dict[int, Generator], prompts: dict,
                          problems: dict[str, str], should_stop: Callable[[], bool] | None) -> dict:
        """Generate every `NewOutput` of the plan, batched per contender; returns
        NewOutput -> GenerationIn. A contender that fails is recorded and its items dropped."""
        wanted: dict[int, dict[NewOutput, None]] = defaultdict(dict)   # (an output can serve several pairs)
        for item in filled:
            for place in item.places:
                if isinstance(place, NewOutput):
                    wanted[place.contender_id][place] = None
        rows = {}
        for contender_id, needed_once in wanted.items():
            needed = list(needed_once)
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
