"""Simulated raters' tastes for bench/improve.py: each a plain function of the prompt and two
answers returning "left", "right" or "tie", so other tastes plug in by name (`TASTES`)."""

from __future__ import annotations

import re
from collections.abc import Callable

Taste = Callable[[str, str, str], str]


def _words(text: str) -> int:
    return len(text.split())


def concise(prompt: str, left: str, right: str) -> str:
    """Prefers the shorter answer that still says something (at least 5 words): a rater who
    wants the point, not the padding. Within 10% of each other it is a tie."""
    a, b = _words(left), _words(right)
    if a < 5 <= b:
        return "right"
    if b < 5 <= a:
        return "left"
    if abs(a - b) <= 0.1 * max(a, b, 1):
        return "tie"
    return "left" if a < b else "right"


_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)


def structured(prompt: str, left: str, right: str) -> str:
    """Prefers answers laid out as a list (more list items wins), then more paragraphs."""
    a, b = len(_ITEM.findall(left)), len(_ITEM.findall(right))
    if a == b:
        a, b = left.count("\n"), right.count("\n")
    if a == b:
        return "tie"
    return "left" if a > b else "right"


_PROMPT_WORD = re.compile(r"[a-zA-Z]{5,}")


def on_topic(prompt: str, left: str, right: str) -> str:
    """Prefers the answer that uses more of the prompt's own long words (stays on topic) per
    word written; ties when equal."""
    words = {w.lower() for w in _PROMPT_WORD.findall(prompt)}

    def share(text: str) -> float:
        tokens = [t.lower() for t in re.findall(r"[a-zA-Z]+", text)]
        return sum(t in words for t in tokens) / max(len(tokens), 1)

    a, b = share(left), share(right)
    if abs(a - b) < 1e-9:
        return "tie"
    return "left" if a > b else "right"


TASTES: dict[str, Taste] = {"concise": concise, "structured": structured, "on_topic": on_topic}
