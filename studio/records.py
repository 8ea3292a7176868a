"""Plain records, the vocabulary every layer shares: the store takes and returns these, never
ORM objects, and generation, rewards, ranking and exchange build or read them without
importing the store."""

from __future__ import annotations

import hashlib
import operator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The longest idempotency key a vote may carry (the page's token, the API, an import):
# `comparisons.idempotency_key` is VARCHAR(200).
MAX_IDEMPOTENCY_KEY = 200


def as_id(value: Any, what: str = "id") -> int:
    """A database id from user input: ints and numpy integers (ids taken out of a DataFrame)
    become plain ints; anything else is refused with a one-line error."""
    from studio.errors import InputError

    try:
        return operator.index(value)
    except TypeError:
        raise InputError(f"{what} must be an integer, got {value!r:.40}") from None


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def media_key(sha256: str, suffix: str) -> str:
    """The one naming rule for stored media: `media/ab/<the full sha256><suffix>`, by content,
    so the same image stored twice (by the pool, by an import) is one file."""
    return f"media/{sha256[:2]}/{sha256}{suffix}"


# The content hash of a text-less generation: one side of a vote imported from a log that
# names the models but not their responses (Chatbot Arena, MT-Bench battles). Its text is
# "", and no real content hashes to this, so training and text exports can refuse it.
TEXTLESS_SHA256 = "0" * 64


@dataclass(frozen=True)
class RaterRecord:
    id: int
    name: str
    role: str


@dataclass(frozen=True)
class PromptIn:
    text: str
    prompt_set: str = "default"
    system_prompt: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    source: str = "manual"


@dataclass(frozen=True)
class PromptRecord:
    id: int
    text: str
    prompt_set: str
    system_prompt: str | None
    meta: dict[str, Any]


@dataclass(frozen=True)
class ContenderRecord:
    id: int
    name: str
    kind: str
    backend: str
    model: str
    params: dict[str, Any]
    revision: int
    enabled: bool
    parent_id: int | None = None            # the contender an improved version was trained from
    version: int = 1                        # 1 for an original, 2, 3, ... for NAME@v2, NAME@v3
    lineage: dict[str, Any] | None = None   # how an improved version was made


@dataclass(frozen=True)
class GenerationIn:
    prompt_id: int
    contender_id: int
    text: str | None = None
    media_path: str | None = None           # its artifact key, e.g. media/ab/abcdef....png
    content_sha256: str | None = None       # required for media; computed from text otherwise
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    latency_ms: float | None = None
    source: str = "generated"

    def digest(self) -> str:
        if self.content_sha256:
            return self.content_sha256
        if self.text is None:
            raise ValueError("a media generation needs its content_sha256")
        return sha256_text(self.text)


@dataclass(frozen=True)
class GenerationRecord:
    id: int
    prompt_id: int
    contender_id: int
    text: str | None
    media_path: str | None
    content_sha256: str
    seed: int | None
    params: dict[str, Any]
    latency_ms: float | None
    created_at: datetime


@dataclass(frozen=True)
class VoteIn:
    left_generation_id: int
    right_generation_id: int
    outcome: str                            # left | right | tie | both_bad
    rater: str
    idempotency_key: str
    rationale: str | None = None
    decision_ms: int | None = None
    session_id: str | None = None
    group_id: str | None = None
    item_id: int | None = None
    source: str = "ui"
    created_at: datetime | None = None      # set by importers to keep the original time


@dataclass(frozen=True)
class ComparisonRecord:
    id: int
    item_id: int | None
    prompt_id: int
    left_generation_id: int
    right_generation_id: int
    left_contender_id: int
    right_contender_id: int
    rater_id: int
    outcome: str
    rationale: str | None
    decision_ms: int | None
    idempotency_key: str
    session_id: str | None
    group_id: str | None
    source: str
    created_at: datetime


@dataclass(frozen=True)
class VoteResult:
    comparison: ComparisonRecord
    created: bool                           # False: nothing was written (a retry, or a second vote)
    # True: the rater had already voted on this item (under another key): `comparison` is
    # that first vote, which stands (the UI says "already saved as ...", the API answers 409).
    duplicate: bool = False


@dataclass(frozen=True)
class SideView:
    """One output as the arena shows it; `contender` is revealed only after the vote."""

    generation_id: int
    contender: str
    kind: str                               # text | image
    text: str | None
    media_path: str | None


@dataclass(frozen=True)
class ItemView:
    """A rating item ready to show: the prompt and its outputs in display order."""

    item_id: int
    shape: str                              # pair | grid
    prompt_id: int
    prompt: str
    prompt_set: str
    sides: tuple[SideView, ...]

    @property
    def kind(self) -> str:
        """The item's shape (pair | grid), under the name it had before `shape`."""
        return self.shape
