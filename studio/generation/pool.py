"""The pool of ready rating items: what to make next, and a worker that keeps it topped up.

The planning here is pure (ids in, plans out); `Studio.refill_pool` reads the counts, calls
these functions, generates what is missing in batches and writes the items. `PoolWorker` runs
`refill_pool` in a background thread so that `Studio.next_item` answers at once: generation
never happens inside a rater's request (except for a prompt the rater typed).
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from studio.generation.base import derive_seed

log = logging.getLogger("studio.pool")

GRID_SIZE = 4                 # images ranked together in one grid item
FREE_PROMPT_SET = "free"      # prompts raters type; the pool does not fill this set


@dataclass(frozen=True)
class PoolStatus:
    min_ready: int
    ready: dict[str, int]             # prompt set -> items a rater could be handed now
    problems: dict[str, str]          # contender name (or "pool") -> why it is left out


def choose_prompts(count: int, coverage: Sequence[tuple[int, int]]) -> list[int]:
    """`count` prompt ids, least-covered first (ties by id), cycling when there are fewer
    prompts than items wanted. `coverage` is (prompt id, items made for it)."""
    heap = [(items, prompt_id) for prompt_id, items in coverage]
    heapq.heapify(heap)
    chosen = []
    for _ in range(count if heap else 0):
        items, prompt_id = heapq.heappop(heap)
        heapq.heappush(heap, (items + 1, prompt_id))
        chosen.append(prompt_id)
    return chosen


@dataclass(frozen=True)
class PlannedItem:
    prompt_id: int
    contender_ids: tuple[int, ...]    # 2 different contenders (a pair) or GRID_SIZE (a grid)

    @property
    def kind(self) -> str:
        return "pair" if len(self.contender_ids) == 2 else "grid"


@dataclass(frozen=True)
class NewOutput:
    """An output the pool must generate before it can make an item."""

    prompt_id: int
    contender_id: int
    seed: int


@dataclass
class Filled:
    """A planned item with, for each place, an existing generation id or a `NewOutput`."""

    plan: PlannedItem
    places: list[Any] = field(default_factory=list)


def plan_items(prompt_ids: Sequence[int], *, text_contenders: Sequence[int], image_contenders: Sequence[int],
               pairs_used: dict[int, Counter], rotation: int) -> list[PlannedItem]:
    """One item per prompt id: for a pair, the two text contenders this prompt has been
    shown with least, pairs rotating so every pair gets its share; for a grid, GRID_SIZE
    images from the image contenders in turn. With both kinds of contender, pairs and grids
    alternate. `pairs_used[prompt]` counts the frozenset pairs already made for it."""
    pairs = list(combinations(sorted(text_contenders), 2))
    kinds = (["pair"] if pairs else []) + (["grid"] if image_contenders else [])
    if not kinds:
        return []
    images = sorted(image_contenders)
    planned = []
    for index, prompt_id in enumerate(prompt_ids):
        turn = rotation + index
        if kinds[turn % len(kinds)] == "pair":
            used = pairs_used.setdefault(prompt_id, Counter())
            start = turn % len(pairs)
            pair = min(pairs, key=lambda p: (used[frozenset(p)], (pairs.index(p) - start) % len(pairs)))
            used[frozenset(pair)] += 1
            planned.append(PlannedItem(prompt_id, pair))
        else:
            planned.append(PlannedItem(prompt_id, tuple(images[(turn + j) % len(images)] for j in range(GRID_SIZE))))
    return planned


def fill_items(planned: Sequence[PlannedItem], existing: Sequence[tuple[int, int, int]],
               used: set[int], *, pool_seed: int) -> list[Filled]:
    """Give each place of each planned item an output: a generation not yet shown in any item
    (e.g. one pre-generated with `studio generate`) when there is one, else a new output to
    generate with a seed derived from the pool seed, the prompt, the contender and how many
    outputs that prompt and contender already have."""
    unused: dict[tuple[int, int], list[int]] = defaultdict(list)
    made: Counter = Counter()
    for generation_id, prompt_id, contender_id in existing:
        made[(prompt_id, contender_id)] += 1
        if generation_id not in used:
            unused[(prompt_id, contender_id)].append(generation_id)
    filled = []
    for plan in planned:
        item = Filled(plan)
        for contender_id in plan.contender_ids:
            key = (plan.prompt_id, contender_id)
            if unused[key]:
                item.places.append(unused[key].pop(0))
            else:
                item.places.append(NewOutput(plan.prompt_id, contender_id,
                                             derive_seed(pool_seed, plan.prompt_id, contender_id, made[key])))
                made[key] += 1
        filled.append(item)
    return filled


def display_order(generation_ids: Sequence[int], rng: random.Random) -> list[int]:
    """Left-to-right (or grid) order, shuffled so no contender keeps one side."""
    order = list(generation_ids)
    rng.shuffle(order)
    return order


class PoolWorker:
    """Keeps the pool topped up from a background thread.

        worker = PoolWorker(studio).start()
        ...                                # studio.next_item(rater) answers at once
        worker.stop()

    Each round calls `studio.refill_pool()`; when nothing was missing it sleeps `interval`
    seconds (or until `wake()`). `stop()` interrupts a round in progress between (and within)
    generation batches; the outputs of an interrupted round are discarded, never half-written.
    """

    def __init__(self, studio, *, prompt_set: str | None = None, min_ready: int | None = None,
                 interval: float = 2.0):
        self.studio = studio
        self.prompt_set = prompt_set
        self.min_ready = min_ready
        self.interval = interval
        self.created = 0                  # items made since start
        self.rounds = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> PoolWorker:
        if not self.running:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="studio-pool", daemon=True)
            self._thread.start()
        return self

    def wake(self) -> None:
        """Refill now rather than after the current sleep (e.g. when a rater found nothing)."""
        self._wake.set()

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> PoolWorker:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _run(self) -> None:
        from studio.generation.base import Stopped

        while not self._stop.is_set():
            made = 0
            try:
                made = self.studio.refill_pool(self.prompt_set, min_ready=self.min_ready,
                                               should_stop=self._stop.is_set)
                self.created += made
                self.last_error = None
            except Stopped:
                break
            except Exception as exc:  # the pool must outlive any one bad round
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("pool refill failed; retrying in %.0f s", self.interval)
            self.rounds += 1
            if made == 0:
                self._wake.wait(self.interval)
                self._wake.clear()
