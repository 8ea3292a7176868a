"""Human votes between two named outputs, in the format of `../shared/data/prefs/elo_*.jsonl`:

    {"prompt", "response_a", "response_b", "model_a", "model_b",
     "winner": "model_a" | "model_b" | "tie" | "both_bad", "judge", ...}

`model_a` is stored on the left, `model_b` on the right. Each vote's idempotency key is a
hash of its content (and its occurrence number, for identical lines), so importing the
same file twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from studio.errors import InputError
from studio.exchange.lines import field, json_lines, open_user_file
from studio.progress import track

WINNERS = {"model_a": "left", "model_b": "right", "tie": "tie", "both_bad": "both_bad"}
MAX_TEXT_CHARS = 200_000


@dataclass(frozen=True)
class ImportedVote:
    """One judgement between two outputs named by the model that wrote them."""

    line: int
    prompt: str
    left_model: str
    left_text: str
    right_model: str
    right_text: str
    outcome: str          # left | right | tie | both_bad
    rater: str
    key: str              # idempotency key: a hash of the content
    rationale: str | None = None


def content_key(kind: str, values: dict, seen: Counter) -> str:
    """A stable key for a record's content; the n-th identical record gets its own key."""
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False)
    seen[canonical] += 1
    digest = hashlib.sha256(f"{canonical}\x00{seen[canonical]}".encode()).hexdigest()
    return f"{kind}:{digest}"


def read_vote_file(path: str | Path, *, progress: bool | None = None) -> list[ImportedVote]:
    path = open_user_file(path)
    seen: Counter = Counter()
    votes = [_vote(path, number, row, seen)
             for number, row in track(json_lines(path), desc=f"reading {path.name}", unit=" votes",
                                      enabled=progress)]
    if not votes:
        raise InputError(f"{path}: no votes found")
    return votes


def _vote(path: Path, number: int, row: dict, seen: Counter) -> ImportedVote:
    def text(key: str, *, non_empty: bool = False) -> str:
        value = field(path, number, row, key, str, non_empty=non_empty)
        if len(value) > MAX_TEXT_CHARS:
            raise InputError(f"{path}:{number}: field '{key}' is longer than {MAX_TEXT_CHARS} characters")
        if "\x00" in value:
            raise InputError(f"{path}:{number}: field '{key}' contains a NUL character")
        return value

    values = {k: text(k, non_empty=k in ("prompt", "model_a", "model_b", "judge"))
              for k in ("prompt", "response_a", "response_b", "model_a", "model_b", "judge")}
    winner = field(path, number, row, "winner", str)
    if winner not in WINNERS:
        raise InputError(f"{path}:{number}: field 'winner' must be one of {', '.join(WINNERS)}, got {winner!r}")
    if values["model_a"] == values["model_b"] and values["response_a"] == values["response_b"]:
        raise InputError(f"{path}:{number}: both sides are the same output")
    rationale = field(path, number, row, "rationale", str, required=False)
    key = content_key("vote", {**values, "winner": winner}, seen)
    return ImportedVote(line=number, prompt=values["prompt"].strip(), left_model=values["model_a"].strip(),
                        left_text=values["response_a"], right_model=values["model_b"].strip(),
                        right_text=values["response_b"], outcome=WINNERS[winner],
                        rater=values["judge"].strip(), key=key, rationale=rationale)
