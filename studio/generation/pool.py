"""The pool of ready rating items: what to make next. Pure planning (ids in, plans out):
`studio.services.pool.PoolService` reads the counts, calls these functions, generates what is
missing in batches and writes the items; `studio.jobs.PoolWorker` runs it in a background
thread so that the next pair is ready before a rater asks (generation never happens inside
a rater's request, except for a prompt the rater typed).
"""

from __future__ import annotations

import heapq
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from studio.generation.base import derive_seed

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
    def shape(self) -> str:
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


# (prompt id, candidate (left, right) generation id pairs) -> their positions, best first
CandidateOrder = Callable[[int, list[tuple[int, int]]], Sequence[int]]


def fill_items(planned: Sequence[PlannedItem], existing: Sequence[tuple[int, int, int]],
               shown: Sequence[Sequence[int]], *, pool_seed: int,
               order: CandidateOrder | None = None) -> list[Filled]:
    """Give each place of each planned item an output.

    A pair takes two samples of its contenders for the prompt that no item pairs yet: with
    k samples per contender, k x k cross pairs come out of 2k outputs, so most pairs cost no
    generation at all. Only when every combination is taken does it plan one more sample
    (of the contender with fewer), which pairs with all of the other's. A grid takes outputs
    not yet shown in any item. New outputs get a seed derived from the pool seed, the
    prompt, the contender and how many outputs that prompt and contender already have.
    `shown` holds the generation ids of the items already made. `order`, when given, ranks
    a pair's untaken combinations of stored outputs (e.g. a reward model's least certain
    first); they come before combinations with an output still to make, which keep their
    order."""
    samples: dict[tuple[int, int], list[Any]] = defaultdict(list)
    made: Counter = Counter()
    for generation_id, prompt_id, contender_id in existing:
        made[(prompt_id, contender_id)] += 1
        samples[(prompt_id, contender_id)].append(generation_id)
    used_ids = {g for ids in shown for g in ids}
    used_pairs = {frozenset(ids) for ids in shown if len(ids) == 2}

    def new_output(prompt_id: int, contender_id: int) -> NewOutput:
        key = (prompt_id, contender_id)
        output = NewOutput(prompt_id, contender_id, derive_seed(pool_seed, prompt_id, contender_id, made[key]))
        made[key] += 1
        samples[key].append(output)
        return output

    filled = []
    for plan in planned:
        if plan.shape == "pair":
            filled.append(Filled(plan, _cross_pair(plan, samples, used_pairs, new_output, order)))
            continue
        item = Filled(plan)
        for contender_id in plan.contender_ids:
            key = (plan.prompt_id, contender_id)
            fresh = next((g for g in samples[key] if isinstance(g, int) and g not in used_ids), None)
            if fresh is None:
                fresh = new_output(plan.prompt_id, contender_id)
            used_ids.add(fresh)
            item.places.append(fresh)
        filled.append(item)
    return filled


def _cross_pair(plan: PlannedItem, samples: dict, used_pairs: set, new_output,
                order: CandidateOrder | None = None) -> list[Any]:
    """The first combination of the two contenders' samples that no item shows yet (older
    samples first, or stored ones in `order`); one more sample of the contender with fewer
    when all are taken."""
    first, second = plan.contender_ids
    mine, theirs = samples[(plan.prompt_id, first)], samples[(plan.prompt_id, second)]
    while True:
        untaken = [(left, right) for left in mine for right in theirs
                   if frozenset((left, right)) not in used_pairs]
        if untaken:
            stored = [c for c in untaken if isinstance(c[0], int) and isinstance(c[1], int)]
            ranked = list(order(plan.prompt_id, stored)) if order is not None and len(stored) > 1 else []
            if ranked:
                untaken = [stored[i] for i in ranked]
            left, right = untaken[0]
            used_pairs.add(frozenset((left, right)))
            return [left, right]
        new_output(plan.prompt_id, first if len(mine) <= len(theirs) else second)


def display_order(generation_ids: Sequence[int], rng: random.Random) -> list[int]:
    """Left-to-right (or grid) order, shuffled so no contender keeps one side."""
    order = list(generation_ids)
    rng.shuffle(order)
    return order
