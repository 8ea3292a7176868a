"""A small demo studio with known answers, for the notebooks and for trying the API out.

    from studio.demo_data import build_demo_studio
    studio = build_demo_studio()          # a temporary directory; or build_demo_studio("demo-data")

Everything is real and offline: three contenders on one tiny random GPT-2 (built in the data
dir), outputs made by the generation pool, and votes cast through the same `next_item` /
`vote` calls the arena makes. Only the raters are simulated. They judge each output by a
hidden quality, its contender's strength (`STRENGTHS`) plus a per-output draw, through a
Bradley-Terry coin with their own sharpness, left-side bias and pace (`RATERS`), and each
pair is judged by several raters, so agreement, position bias and rater speed all have
something to show. Because the truth is known, a notebook can check that the leaderboard
finds it (`EXPECTED_ORDER`). It takes a few seconds on a laptop CPU.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.api import Studio

PROMPT_SET = "demo"
SOURCE = "simulated"

# The hidden truth: a contender's strength on the Bradley-Terry log-odds scale.
STRENGTHS = {"tiny-verbose": 1.0, "tiny-balanced": 0.0, "tiny-terse": -1.0}
EXPECTED_ORDER = sorted(STRENGTHS, key=STRENGTHS.get, reverse=True)
OUTPUT_SPREAD = 0.5          # per-output quality around the contender's strength (std dev)

# (name, temperature, max_new_tokens): one tiny model, three ways of sampling it. The
# simulated raters like longer answers better (real raters often do too), so a reward model
# has something in the text to learn from, even though the words themselves are noise.
_CONTENDERS = (("tiny-verbose", 0.7, 20), ("tiny-balanced", 1.0, 10), ("tiny-terse", 1.0, 4))


@dataclass(frozen=True)
class SimulatedRater:
    name: str
    sharpness: float          # how strongly the quality gap sways them (0: a coin flip)
    left_bias: float          # log-odds added to the left side (position bias)
    median_ms: int            # typical time to decide
    tie_rate: float = 0.05    # share of close calls they mark as a tie
    role: str = "rater"

    def judge(self, left_quality: float, right_quality: float, rng: random.Random) -> tuple[str, int]:
        """An outcome (left | right | tie | both_bad) and a decision time in ms."""
        gap = left_quality - right_quality
        prob_left = 1.0 / (1.0 + math.exp(-(self.sharpness * gap + self.left_bias)))
        ms = int(self.median_ms * math.exp(rng.gauss(0.0, 0.35)))
        if max(left_quality, right_quality) < -1.5 and rng.random() < 0.5:
            return "both_bad", ms
        if abs(gap) < 0.3 and rng.random() < self.tie_rate / 0.3:
            return "tie", ms + self.median_ms // 2     # close calls take longer
        return ("left" if rng.random() < prob_left else "right"), ms


RATERS = (
    SimulatedRater("ana", sharpness=3.0, left_bias=0.0, median_ms=9000),      # careful and slow
    SimulatedRater("ben", sharpness=2.5, left_bias=0.0, median_ms=4500),
    SimulatedRater("dara", sharpness=2.5, left_bias=0.1, median_ms=6000),
    SimulatedRater("chen", sharpness=0.6, left_bias=1.2, median_ms=1200),     # fast, noisy, clicks left
)

PROMPTS = (
    "Write a haiku about rain on a tin roof.",
    "Explain recursion to a child who likes stairs.",
    "What is the capital of France?",
    "Summarise the story of the tortoise and the hare in one sentence.",
    "List three fruits that are red.",
    "Describe a small cat sitting on a warm mat.",
    "Give one tip for writing clear emails.",
    "Why does the sea look blue?",
    "Suggest a name for a friendly robot.",
    "Write a two-line poem about a kettle.",
    "How do I boil an egg?",
    "What rhymes with river?",
    "Describe the smell of fresh bread.",
    "Tell me a fact about the moon.",
    "Write a polite reply declining a meeting.",
    "Explain what a reward model is in one sentence.",
    "Give a synonym for happy.",
    "What should I pack for a day at the beach?",
    "Write the opening line of a mystery novel.",
    "Describe autumn in three words.",
    "How many legs does a spider have?",
    "Suggest a healthy breakfast.",
    "Write a short thank-you note to a teacher.",
    "What is a good name for a bakery?",
    "Explain why we have seasons.",
    "Write a limerick about a lazy dog.",
    "What is the opposite of quick?",
    "Describe a quiet library.",
    "Give a reason to learn a second language.",
    "Write a weather forecast for a sunny day.",
)


def build_demo_studio(directory: str | os.PathLike[str] | None = None, *, prompts: int = 24,
                      votes_per_pair: int = 3, raters: tuple[SimulatedRater, ...] = RATERS,
                      seed: int = 0) -> Studio:
    """Create and fill a demo studio in `directory` (a new temporary directory when None);
    returns it open. `prompts` (at most len(PROMPTS)) each get one pair of every two
    contenders, and each pair `votes_per_pair` simulated votes."""
    from studio.api import Studio
    from studio.errors import InputError
    from studio.generation.tiny import build_tiny_text_model

    if not 1 <= prompts <= len(PROMPTS):
        raise InputError(f"the demo has 1 to {len(PROMPTS)} prompts, got {prompts}")
    if not 1 <= votes_per_pair <= len(raters):
        raise InputError(f"votes_per_pair must be between 1 and the number of raters ({len(raters)})")
    root = Path(tempfile.mkdtemp(prefix="studio-demo-") if directory is None else directory).expanduser()
    if root.exists() and any(root.iterdir()):
        raise InputError(f"{root} is not empty: the demo is built in an empty (or new) directory")
    root.mkdir(parents=True, exist_ok=True)
    pairs_per_prompt = len(_CONTENDERS) * (len(_CONTENDERS) - 1) // 2
    (root / "studio.toml").write_text(_demo_toml(prompts * pairs_per_prompt, votes_per_pair, seed), encoding="utf-8")

    with _quiet_transformers():
        model = build_tiny_text_model(root / "models" / "tiny-gpt2", seed=seed)
        studio = Studio.open(root)
        try:
            for name, temperature, max_new_tokens in _CONTENDERS:
                studio.declare_contender(name, model=str(model),
                                         params={"temperature": temperature, "max_new_tokens": max_new_tokens})
            studio.add_prompts(PROMPTS[:prompts], prompt_set=PROMPT_SET, source="demo")
            studio.refill_pool(PROMPT_SET)
            _simulate_votes(studio, raters, seed)
        except BaseException:
            studio.close()
            raise
    return studio


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    """No "Loading weights" bars for the tiny model while the demo is built (restored after)."""
    from transformers.utils import logging

    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            logging.enable_progress_bar()


def _demo_toml(items: int, votes_per_pair: int, seed: int) -> str:
    return f"""\
# A demo studio made by studio.demo_data.build_demo_studio: tiny random models, simulated raters.
[studio]
sqlite_synchronous = "NORMAL"    # a throwaway demo: no fsync per vote

[pool]
min_ready = {items}
batch_size = 64                  # tiny models: one batch per contender
votes_per_pair = {votes_per_pair}
seed = {seed}

[training]
retrain_every = 0                # train by hand in the notebook, not in the background
heldout_fraction = 0.4           # 24 prompts: 8 held out, enough for the activation gate to tell
seed = {seed}
"""


def output_quality(generation_id: int, contender: str, seed: int = 0) -> float:
    """The hidden quality of one output: its contender's strength plus a stable draw."""
    draw = random.Random(f"{seed}:{generation_id}").gauss(0.0, OUTPUT_SPREAD)
    return STRENGTHS.get(contender, 0.0) + draw


def _simulate_votes(studio: Studio, raters: tuple[SimulatedRater, ...], seed: int) -> int:
    """Raters take turns asking for their next pair and voting on it, as in the arena,
    until none of them has anything left to rate. Returns the number of votes."""
    rng = random.Random(seed)
    contender_of = dict(zip(*_generation_contenders(studio), strict=True))
    for rater in raters:
        studio.ensure_rater(rater.name, rater.role)
    active = list(raters)
    cast = 0
    while active:
        for rater in list(active):
            item = studio.next_item(rater.name, prompt_set=PROMPT_SET, shape="pair")
            if item is None:
                active.remove(rater)
                continue
            left, right = (side.generation_id for side in item.sides)
            outcome, ms = rater.judge(output_quality(left, contender_of[left], seed),
                                      output_quality(right, contender_of[right], seed), rng)
            studio.vote(item.item_id, outcome=outcome, rater=rater.name, decision_ms=ms, source=SOURCE,
                        idempotency_key=f"demo-{rater.name}-{item.item_id}")
            cast += 1
    return cast


def _generation_contenders(studio: Studio) -> tuple[list[int], list[str]]:
    frame = studio.generations(prompt_set=PROMPT_SET)
    return frame["id"].tolist(), frame["contender"].tolist()
