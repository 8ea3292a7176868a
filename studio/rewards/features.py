"""Cheap features of a response that need no model: length, shape, overlap with the prompt.

"The longer response wins" is a strong baseline on human preference data (56% on the
studio's benchmark) and a frozen sentence embedding barely says how long a text is, so the
head sees these beside the embeddings. Which side of "longer" people prefer depends on the
request (a harmful request is better refused briefly), which is why head mode also crosses
the length with the prompt's embedding (see `RewardNet.combine`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

NAMES = ("log_chars", "log_words", "log_lines", "empty", "has_list", "prompt_overlap", "unique_words",
         "ends_with_question", "speaks_for_user", "refusal", "digits", "exclamations")
LENGTH = 0   # index of the feature crossed with the prompt embedding

_WORD = re.compile(r"[a-z0-9']+")
_TURN = re.compile(r"(^|\n)\s*(Human|User|Assistant)\s*:", re.IGNORECASE)
_REFUSAL = re.compile(r"\b(sorry|can't|cannot|unable to|not able to|as an ai)\b", re.IGNORECASE)


def response_features(prompt: str, response: str) -> list[float]:
    text = (response or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    listed = sum(1 for line in lines if line.lstrip()[:2] in ("- ", "* ") or line.lstrip()[:1].isdigit())
    words = _WORD.findall(text.lower())
    prompt_words = set(_WORD.findall((prompt or "").lower()[-2000:]))
    n = max(1, len(words))
    return [
        math.log1p(len(text)) / 8.0,
        math.log1p(len(text.split())) / 6.0,
        math.log1p(len(lines)) / 3.0,
        float(not text),
        float(listed >= 2),
        sum(1 for w in words if w in prompt_words) / n,
        len(set(words)) / n,
        float(text.endswith("?")),
        float(bool(_TURN.search(text))),
        float(bool(_REFUSAL.search(text))),
        10.0 * sum(c.isdigit() for c in text) / max(1, len(text)),
        100.0 * text.count("!") / max(1, len(text)),
    ]


def cheap_features(prompts: Sequence[str], responses: Sequence[str]):
    import torch

    rows = [response_features(p, r) for p, r in zip(prompts, responses, strict=True)]
    return torch.tensor(rows, dtype=torch.float32).reshape(len(rows), len(NAMES))
