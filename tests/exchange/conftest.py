"""A small studio with every kind of vote the exports must handle: wins both ways, ties,
"both bad", raters who disagree on the same pair, a contender with a system prompt, and
image contenders whose outputs are real PNG files in the data dir."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from studio.contender_spec import ContenderSpec
from studio.records import GenerationIn


@dataclass
class Filled:
    studio: object
    data_dir: Path
    votes: int          # comparisons written
    image_votes: int


def png_bytes(colour: tuple[int, int, int], size: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def fill(studio, data_dir: Path, *, prompts: int = 12, images: bool = True) -> Filled:
    """Text votes on `prompts` prompts (a fixed pattern of outcomes and raters), plus image votes."""
    a = studio.add_contender(ContenderSpec(name="alpha", model="tiny-a", params={"system_prompt": "Be brief."}))
    b = studio.add_contender(ContenderSpec(name="beta", model="tiny-b", params={"system_prompt": "Be brief."}))
    c = studio.add_contender(ContenderSpec(name="gamma", model="tiny-c"))
    ids = studio.add_prompts([f"Question number {i}: what is {i} + {i}?" for i in range(prompts)], prompt_set="math")
    pattern = [("left", "r1"), ("right", "r2"), ("left", "r2"), ("tie", "r3"), ("both_bad", "r1"), ("right", "r3")]
    votes = 0
    for i, prompt_id in enumerate(ids):
        ga, gb, gc = studio.add_generations([
            GenerationIn(prompt_id=prompt_id, contender_id=a.id, text=f"{2 * i}"),
            GenerationIn(prompt_id=prompt_id, contender_id=b.id, text=f"The answer is {2 * i}."),
            GenerationIn(prompt_id=prompt_id, contender_id=c.id, text=f"<b>{2 * i + 1}</b>"),
        ])
        outcome, rater = pattern[i % len(pattern)]
        studio.vote(left=ga, right=gb, outcome=outcome, rater=rater, decision_ms=1000 + i,
                    rationale="short and right" if outcome == "left" else None)
        studio.vote(left=gc, right=ga, outcome="right", rater="r1")
        votes += 2
        if i % 3 == 0:      # a second opinion on the first pair, shown the other way round
            studio.vote(left=gb, right=ga, outcome="left" if i % 2 else "right", rater="r4")
            votes += 1
    image_votes = 0
    if images:
        image_votes = _image_votes(studio, data_dir)
    return Filled(studio=studio, data_dir=data_dir, votes=votes + image_votes, image_votes=image_votes)


def _image_votes(studio, data_dir: Path) -> int:
    x = studio.add_contender(ContenderSpec(name="painter-x", kind="image", backend="diffusers", model="tiny-x"))
    y = studio.add_contender(ContenderSpec(name="painter-y", kind="image", backend="diffusers", model="tiny-y"))
    ids = studio.add_prompts(["A red square.", "A blue square."], prompt_set="pictures")
    count = 0
    for n, prompt_id in enumerate(ids):
        outputs = []
        for contender, colour in ((x, (200, 10 * n, 0)), (y, (0, 10 * n, 200))):
            data = png_bytes(colour)
            digest = hashlib.sha256(data).hexdigest()
            relative = f"media/{digest[:2]}/{digest}.png"
            (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            (data_dir / relative).write_bytes(data)
            outputs.append(GenerationIn(prompt_id=prompt_id, contender_id=contender.id, media_path=relative,
                                        content_sha256=digest))
        left, right = studio.add_generations(outputs)
        studio.vote(left=left, right=right, outcome="left", rater="r1")
        count += 1
    return count


@pytest.fixture
def filled(sqlite_studio, tmp_path) -> Filled:
    return fill(sqlite_studio, tmp_path / "data")


@pytest.fixture
def text_filled(sqlite_studio, tmp_path) -> Filled:
    """Text votes only (a `trl` export of image votes is a dataset folder, not a file)."""
    return fill(sqlite_studio, tmp_path / "data", images=False)


@pytest.fixture
def filled_any(studio, tmp_path) -> Filled:
    """The same data on SQLite and on PostgreSQL."""
    return fill(studio, tmp_path / "data", images=False)
