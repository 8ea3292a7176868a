"""Preference data as the trainer sees it: items (one generation each, scored once) and
pairs between them; from the studio's votes or from a TRL-style pairs file; split by prompt;
packed into batches grouped by prompt.

Grouping is where the speed comes from on arena data. One output usually meets several
others; a batch holds a set of outputs and *every* rated pair among them, so each output is
encoded once per step and all of its pairs share that pass (the InstructGPT K-choose-2
idea). On data where each prompt has one pair (TRL's shape) a batch is simply
`batch_size` pairs, as in TRL.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.splits import assign_sides

TARGETS = {"left": 1.0, "right": 0.0, "tie": 0.5}   # both_bad is not a preference: left out


def content_key(prompt: str, content: str) -> str:
    """The identity of one scored item: its prompt and its content (text or image hash)."""
    return hashlib.sha256(f"{len(prompt)}:{prompt}\x00{content}".encode()).hexdigest()


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Item:
    key: str                     # content_key(prompt, content hash): the embedding cache key
    prompt: str
    text: str | None = None      # text outputs
    image: str | None = None     # image outputs: a file path


@dataclass(frozen=True)
class Pair:
    left: int                    # indices into PreferenceData.items
    right: int
    target: float                # P(left is better): 1, 0 or 0.5 (a tie)
    prompt: str                  # the group key (pairs of one prompt share a batch)


@dataclass
class PreferenceData:
    items: list[Item] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    max_comparison_id: int = 0
    min_comparison_id: int = 0

    @property
    def kinds(self) -> set[str]:
        """The kinds of output among the items: text, image or both."""
        return {"image" if item.image is not None else "text" for item in self.items}

    @property
    def kind(self) -> str:
        """text or image: one reward model learns one kind (mixed data is refused)."""
        kinds = self.kinds
        if len(kinds) > 1:
            raise InputError("these pairs mix text and image outputs: train one reward model per kind "
                             "(of_kind('text'), of_kind('image'))")
        return kinds.pop() if kinds else "text"

    def of_kind(self, kind: str) -> PreferenceData:
        """Only the pairs between outputs of one kind (text or image)."""
        image = kind == "image"
        return self.subset([p for p in self.pairs
                            if (self.items[p.left].image is not None) == image == (self.items[p.right].image is not None)])

    @property
    def decisive(self) -> int:
        return sum(1 for p in self.pairs if p.target != 0.5)

    def prompts(self) -> set[str]:
        return {p.prompt for p in self.pairs}

    def subset(self, pairs: Sequence[Pair]) -> PreferenceData:
        """The same data restricted to some pairs (items renumbered, unused ones dropped)."""
        used = sorted({i for p in pairs for i in (p.left, p.right)})
        index = {old: new for new, old in enumerate(used)}
        return PreferenceData(
            items=[self.items[i] for i in used],
            pairs=[Pair(index[p.left], index[p.right], p.target, p.prompt) for p in pairs],
            max_comparison_id=self.max_comparison_id, min_comparison_id=self.min_comparison_id)

    def head(self, n: int) -> PreferenceData:
        return self.subset(self.pairs[:n]) if n < len(self.pairs) else self


class _Builder:
    def __init__(self):
        self.data = PreferenceData()
        self.index: dict[str, int] = {}

    def item(self, prompt: str, *, text: str | None = None, image: str | None = None,
             digest: str | None = None) -> int:
        key = content_key(prompt, digest or text_digest(text or ""))
        if key not in self.index:
            self.index[key] = len(self.data.items)
            self.data.items.append(Item(key=key, prompt=prompt, text=text, image=image))
        return self.index[key]

    def pair(self, prompt: str, left: int, right: int, target: float) -> None:
        if left != right:
            self.data.pairs.append(Pair(left, right, target, prompt))


def from_comparisons(rows: Iterable[dict[str, Any]], *,
                     media_file: Callable[[str], str] | None = None) -> PreferenceData:
    """Votes (dicts with prompt, outcome, left/right text or media, left/right sha256 and
    comparison id) to preference data. Ties become 0.5 targets; "both bad" is left out.
    `media_file(key)` gives the local file of an image side (its key as it is, without)."""
    builder = _Builder()
    ids = []
    for row in rows:
        ids.append(int(row["id"]))
        target = TARGETS.get(row["outcome"])
        if target is None:
            continue
        sides = []
        for side in ("left", "right"):
            media = row.get(f"{side}_media")
            if media:
                path = media_file(media) if media_file else media
                sides.append(builder.item(row["prompt"], image=path, digest=row.get(f"{side}_sha256")))
            else:
                sides.append(builder.item(row["prompt"], text=row[f"{side}_text"] or "",
                                          digest=row.get(f"{side}_sha256")))
        builder.pair(row["prompt"], sides[0], sides[1], target)
    if ids:
        builder.data.min_comparison_id, builder.data.max_comparison_id = min(ids), max(ids)
    return builder.data


def read_pairs_file(path: str | Path) -> PreferenceData:
    """A JSON Lines file in TRL's preference format: `prompt`, `chosen`, `rejected` strings.
    Read with the importers' careful reader: invalid UTF-8, huge lines and bad JSON are
    refused with `file:line`."""
    from studio.exchange.lines import json_lines

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file (a JSON Lines file with prompt, chosen, rejected)")
    builder = _Builder()
    for number, row in json_lines(path):
        for name in ("prompt", "chosen", "rejected"):
            if name not in row:
                raise InputError(f"{path.name}:{number}: missing field '{name}'")
            if not isinstance(row[name], str):
                raise InputError(f"{path.name}:{number}: field '{name}' must be a string "
                                 "(conversational pairs: flatten them to text first)")
        prompt = row["prompt"]
        chosen = builder.item(prompt, text=row["chosen"])
        rejected = builder.item(prompt, text=row["rejected"])
        builder.pair(prompt, chosen, rejected, 1.0)
    if not builder.data.pairs:
        raise InputError(f"{path}: no pairs in the file")
    return builder.data


def heldout_prompts(prompts: Iterable[str], fraction: float, known: dict[str, bool] | None = None) -> set[str]:
    """Prompts held out of training (`splits.assign_sides`: the same prompts an export's
    `--split test=fraction` holds out; a prompt in `known` keeps its stored side)."""
    return {p for p, held in assign_sides(prompts, fraction, known).items() if held}


def split_by_prompt(data: PreferenceData, fraction: float,
                    known: dict[str, bool] | None = None) -> tuple[PreferenceData, PreferenceData]:
    """(train, held-out): no prompt is in both."""
    return split_by_heldout(data, heldout_prompts(data.prompts(), fraction, known))


def split_by_heldout(data: PreferenceData, held: set[str]) -> tuple[PreferenceData, PreferenceData]:
    """(train, held-out) for a given set of held-out prompts."""
    train = [p for p in data.pairs if p.prompt not in held]
    test = [p for p in data.pairs if p.prompt in held]
    return data.subset(train), data.subset(test)


@dataclass(frozen=True)
class Batch:
    items: list[int]                              # unique items to score in this step
    pairs: list[tuple[int, int, float]]           # (position in items, position, target)


def group_batches(data: PreferenceData, max_items: int, seed: int) -> list[Batch]:
    """Pack every pair into exactly one batch of at most `max_items` unique items, keeping
    pairs of one prompt together so that each item's single encoding serves all its pairs."""
    if max_items < 2:
        raise ValueError("a batch holds at least the two sides of one pair")
    rng = random.Random(seed)
    by_prompt: dict[str, list[int]] = defaultdict(list)
    for index, pair in enumerate(data.pairs):
        by_prompt[pair.prompt].append(index)
    groups: list[list[tuple[list[int], list[int]]]] = []
    for prompt in sorted(by_prompt):
        pair_ids = by_prompt[prompt]
        rng.shuffle(pair_ids)
        groups.append(_pack_prompt(data, pair_ids, max_items))
    # Small groups (a prompt with a pair or two) share batches, up to max_items items.
    pieces = [piece for group in groups for piece in group]
    rng.shuffle(pieces)
    pieces.sort(key=lambda piece: -len(piece[0]))
    batches: list[tuple[list[int], list[int]]] = []
    for items, pairs in pieces:   # next fit, largest pieces first
        if batches and len(batches[-1][0]) + len(items) <= max_items:
            batches[-1][0].extend(items)
            batches[-1][1].extend(pairs)
        else:
            batches.append((list(items), list(pairs)))
    rng.shuffle(batches)
    return [_as_batch(data, items, pairs) for items, pairs in batches]


def _pack_prompt(data: PreferenceData, pair_ids: list[int], max_items: int) -> list[tuple[list[int], list[int]]]:
    """Greedy edge packing for one prompt: grow a set of items, always adding the item with
    the most pairs into the set, and take every pair inside the set."""
    remaining = set(pair_ids)
    touching: dict[int, set[int]] = defaultdict(set)
    for pid in pair_ids:
        pair = data.pairs[pid]
        touching[pair.left].add(pid)
        touching[pair.right].add(pid)
    pieces = []
    order = iter(pair_ids)
    while remaining:
        seed_id = next(pid for pid in order if pid in remaining)
        chosen: list[int] = []
        inside: set[int] = set()
        taken: list[int] = []
        links: dict[int, int] = defaultdict(int)   # candidate item -> pairs into the set
        frontier = [data.pairs[seed_id].left, data.pairs[seed_id].right]
        while len(chosen) < max_items:
            if frontier:
                item = frontier.pop(0)
                if item in inside:
                    continue
            elif links:
                item = max(links, key=lambda i: (links[i], len(touching[i] & remaining), -i))
            else:
                break
            inside.add(item)
            chosen.append(item)
            links.pop(item, None)
            for pid in list(touching[item] & remaining):
                pair = data.pairs[pid]
                other = pair.right if pair.left == item else pair.left
                if other in inside:
                    taken.append(pid)
                    remaining.discard(pid)
                else:
                    links[other] += 1
        pieces.append((chosen, taken))
        if not taken:   # cannot happen with max_items >= 2; guards against a silent loop
            raise RuntimeError("batch packing made no progress")
    return pieces


def _as_batch(data: PreferenceData, items: list[int], pair_ids: list[int]) -> Batch:
    position = {item: n for n, item in enumerate(items)}
    pairs = [(position[data.pairs[p].left], position[data.pairs[p].right], data.pairs[p].target)
             for p in pair_ids]
    return Batch(items=items, pairs=pairs)
