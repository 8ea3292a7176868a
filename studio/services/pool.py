"""The pool of ready rating items. `refill` is one step: read what is missing, generate it
in batches (no transaction is open while models run), then write the outputs and the items
in one transaction. Contenders that fail to load are skipped and the reason recorded (see
`status`). A `studio.jobs.PoolWorker` calls `refill` from a background thread."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from studio.config import StudioConfig
from studio.generation.base import GENERATING_BACKENDS, Generator, Output, Request, Stopped
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

T = TypeVar("T")
PACE_ITEMS = 12          # recent pool items the pace is measured over


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


FIRST_CHUNK = 2          # items in each of the first two batches into an empty pool


def chunks(filled: Sequence[T], batch: int, *, empty: bool) -> list[list[T]]:
    """Items (or outputs) written batch by batch; into an empty pool the first batches are
    small (2, 2, 4, 8, ...) so a rater gets a pair soon after the models load and finds the
    next ones ready. (On 2 cores with SmolLM2, one pair takes about 8 s and two about 13 s: a
    first batch of one left a rater voting every 10 s waiting for the second pair, while two
    batches of two keep the generation ahead of such a rater until the batches are full.)"""
    size = min(batch, FIRST_CHUNK) if empty else batch
    parts, start = [], 0
    while start < len(filled):
        parts.append(list(filled[start:start + size]))
        start += size
        if len(parts) >= 2:
            size = min(batch, size * 2)
    return parts


def _requests(needed: Sequence[NewOutput], prompts: dict) -> list[Request]:
    return [Request(prompt=prompts[n.prompt_id].text, seed=n.seed, system_prompt=prompts[n.prompt_id].system_prompt,
                    key=n.prompt_id) for n in needed]


def _missing(plan: SetPlan | None) -> dict[int, list[NewOutput]]:
    """The plan's outputs still to generate, by contender id (each once, in plan order)."""
    missing: dict[int, dict[NewOutput, None]] = defaultdict(dict)
    for item in plan.filled if plan else ():
        for place in item.places:
            if isinstance(place, NewOutput):
                missing[place.contender_id][place] = None
    return {contender_id: list(outputs) for contender_id, outputs in missing.items()}


@dataclass
class SetPlan:
    """A prompt set's next items as planned: places filled with stored ids or `NewOutput`s."""

    filled: list[Filled]
    prompts: dict                   # prompt id -> prompt record
    shown: list                     # generation ids of the items these prompts already have
    rng: random.Random              # display order of the items written from this plan


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
        # items (and min_ready) instead of generating here; it pairs stored outputs (returning
        # how many items that made) and leaves the generation to workers.
        self.on_workers: Callable[[list[str], int], int] | None = None
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
                return self.on_workers(sorted(deficits), wanted)
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

    def _plan(self, prompt_set: str, deficit: int, text_ids: Sequence[int], image_ids: Sequence[int]) -> SetPlan:
        """What the next `deficit` items of a prompt set show: stored outputs where a pair
        of them is still untaken, `NewOutput`s where something must be generated first."""
        with self.store.reader() as tx:
            coverage = tx.pool.coverage(prompt_set)
            prompt_ids = choose_prompts(deficit, coverage)
            items = tx.items.for_prompts(prompt_ids)
            contender_of = tx.pool.contenders_of([g for item in items for g in item.generation_ids])
            existing = tx.pool.generations_for(prompt_ids, [*text_ids, *image_ids])
            prompts = {i: tx.prompts.get(i) for i in set(prompt_ids)}
            parents = tx.contenders.parents()
        pairs_used: dict[int, Counter] = defaultdict(Counter)
        for item in items:
            if item.shape == "pair":
                pairs_used[item.prompt_id][frozenset(contender_of[g] for g in item.generation_ids)] += 1
        rotation = sum(count for _, count in coverage)
        planned = self.pair_choice.plan(prompt_ids, text_contenders=text_ids, image_contenders=image_ids,
                                        pairs_used=pairs_used, rotation=rotation)
        planned = versus_parent(planned, parents, list(text_ids), share=self.config.pool.versus_parent_share,
                                rotation=rotation)
        shown = [item.generation_ids for item in items]
        filled = fill_items(planned, existing, shown, pool_seed=self.config.pool.seed,
                            order=self.pair_choice.candidate_order())   # None: coverage order
        return SetPlan(filled, prompts, shown, random.Random(f"{self.config.pool.seed}:{prompt_set}:{rotation}"))

    def _refill_set(self, prompt_set: str, deficit: int, generators: dict[int, Generator],
                    problems: dict[str, str], should_stop: Callable[[], bool] | None, *, empty: bool = False,
                    on_written: Callable[[int], None] | None = None) -> int:
        plan = self._plan(prompt_set, deficit, [i for i, g in generators.items() if g.kind == "text"],
                          [i for i, g in generators.items() if g.kind == "image"])
        done: dict[NewOutput, int] = {}             # outputs written by an earlier chunk
        shown_pairs = {frozenset(ids) for ids in plan.shown}
        created = 0
        for chunk in chunks(plan.filled, max(1, self.config.pool.batch_size), empty=empty):
            chunk = [_with_written(item, done) for item in chunk]
            made = self._generate_missing(chunk, generators, plan.prompts, problems, should_stop)
            if should_stop and should_stop():
                raise Stopped()
            written = self._write_items(prompt_set, chunk, made, plan.rng, done, shown_pairs)
            created += written
            if on_written and written:
                on_written(written)
        return created

    # -- the pool on workers: outputs made contender by contender, paired where they meet ----

    def missing_outputs(self, prompt_set: str, *, min_ready: int | None = None) -> dict[int, list[NewOutput]]:
        """The outputs each enabled contender must generate before the set's next items can be
        made (contender id -> outputs, in plan order); nothing when the set has enough."""
        return _missing(self._plan_for_deficit(prompt_set, min_ready))

    def pair_existing(self, prompt_set: str, *, min_ready: int | None = None) -> int:
        """Make the items the set is short of that need no generation (both sides stored);
        returns how many. Safe to call from several machines at once: the writes are
        serialised and checked against the items made meanwhile."""
        return self.pair_and_list_missing(prompt_set, min_ready=min_ready)[0]

    def pair_and_list_missing(self, prompt_set: str, *, min_ready: int | None = None) \
            -> tuple[int, dict[int, list[NewOutput]]]:
        """`pair_existing` and `missing_outputs` from one plan: the items made, and the outputs
        each contender must generate for the rest (what a server on workers asks each round)."""
        wanted = self.config.pool.min_ready if min_ready is None else min_ready
        plan = self._plan_for_deficit(prompt_set, wanted)
        return self._pair_ready(prompt_set, wanted, plan), _missing(plan)

    def _pair_ready(self, prompt_set: str, wanted: int, plan: SetPlan | None) -> int:
        ready = [item for item in plan.filled if all(isinstance(p, int) for p in item.places)] if plan else []
        if not ready:
            return 0
        created = 0
        with self.store.transaction() as tx:
            tx.pool.lock_pairing()
            room = wanted - tx.items.ready_count(prompt_set)
            shown = [item.generation_ids for item in tx.items.for_prompts(list(plan.prompts))]
            shown_sets = {frozenset(ids) for ids in shown}
            in_grids = {g for ids in shown if len(ids) > 2 for g in ids}
            for item in ready[:max(0, room)]:
                ids = list(item.places)
                if len(set(ids)) != len(ids) or frozenset(ids) in shown_sets or \
                        (len(ids) > 2 and in_grids.intersection(ids)):
                    continue      # made meanwhile by another pairer
                tx.items.create(item.plan.prompt_id, display_order(ids, plan.rng), prompt_set=prompt_set,
                                votes_wanted=self.config.pool.votes_per_pair, source="pool")
                shown_sets.add(frozenset(ids))
                in_grids.update(ids if len(ids) > 2 else ())
                created += 1
        return created

    def store_outputs(self, contender_id: int, outputs: Sequence[Output]) -> list[int]:
        """Write one contender's generated outputs (unpaired: `pair_existing` pairs them)."""
        rows = [self.generation.generation_in(contender_id, output) for output in outputs]
        with self.store.transaction() as tx:
            return tx.generations.add(rows)

    def requests_for(self, needed: Sequence[NewOutput]) -> list[Request]:
        """The generation requests of planned outputs (their prompts read once)."""
        with self.store.reader() as tx:
            prompts = {i: tx.prompts.get(i) for i in {n.prompt_id for n in needed}}
        return _requests(needed, prompts)

    def _plan_for_deficit(self, prompt_set: str, min_ready: int | None) -> SetPlan | None:
        """The set's plan for what it is short of; None when it has enough."""
        wanted = self.config.pool.min_ready if min_ready is None else min_ready
        with self.store.reader() as tx:
            deficit = wanted - tx.items.ready_count(prompt_set)
            records = [c for c in tx.contenders.list(enabled_only=True) if c.backend in GENERATING_BACKENDS]
        if deficit <= 0:
            return None
        return self._plan(prompt_set, deficit, [c.id for c in records if c.kind == "text"],
                          [c.id for c in records if c.kind == "image"])

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
            requests = _requests(needed, prompts)
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
