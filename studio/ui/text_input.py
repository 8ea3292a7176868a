"""Text that arrives from a page or an API client, checked before anything stores it.

A browser sends what the person typed, but anything can call the app's API: JSON can carry
NUL characters and unpaired surrogates (`"\\ud800"`), which neither SQLite nor PostgreSQL
stores, and text of any size. Those are refused here with one line; markup and the like
are kept as text (everything is escaped where it is shown).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from studio.errors import InputError

MAX_RATIONALE = 10_000
MAX_PROMPT = 100_000
MAX_FILTER = 200


def typed_text(value: Any, *, what: str, limit: int) -> str:
    """`value` as a storable string ("" for None)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text")
    if len(value) > limit:
        raise InputError(f"{what} is longer than {limit:,} characters: shorten it")
    if "\x00" in value:
        raise InputError(f"{what} contains a NUL character: remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{what} contains an unpaired surrogate (not valid Unicode): remove it") from None
    return value


def one_line_name(value: Any, *, what: str, limit: int) -> str:
    """A name: trimmed, inner whitespace collapsed, no control characters."""
    cleaned = " ".join(typed_text(value, what=what, limit=10 * limit).split())
    if len(cleaned) > limit:
        raise InputError(f"{what} has at most {limit} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf") and c not in "\u200d" for c in cleaned):
        raise InputError(f"{what} contains control characters: type it again without them")
    return cleaned
