"""Human votes between two named outputs, one JSON object a line, in either of two shapes:

- the format of `../shared/data/prefs/elo_*.jsonl`:
  `{"prompt", "response_a", "response_b", "model_a", "model_b",
    "winner": "model_a" | "model_b" | "tie" | "both_bad", "judge", ...}`
  (`model_a` is stored on the left, `model_b` on the right). Without `response_a` and
  `response_b` (a battle log such as Chatbot Arena's or MT-Bench's, naming models and
  outcomes only) the vote is on text-less generations (`records.TEXTLESS_SHA256`): it counts
  in leaderboards, agreement and vote exports, and training and TRL exports refuse it;
  `prompt` may then be replaced by a `question_id`;
- the studio's own `jsonl` export (`prompt`, `left_contender`, `right_contender`,
  `left_text`, `right_text`, `outcome`, `rater`, and optionally `rationale`, `decision_ms`,
  `created_at`, `prompt_set`, `session_id`, `group_id`, `idempotency_key`), so an export
  imports back as the same comparisons. A side that is an image has `{side}_text` null and
  `{side}_media` naming the file relative to the export file's folder (an export names it
  relative to the data dir, so export into the data dir, or copy its `media/` folder next
  to the file).

Each vote's idempotency key is the one the export carries, or else a hash of its content
(and its occurrence number, for identical lines), so importing the same file twice adds
nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.exchange.lines import field, json_lines, open_user_file
from studio.exchange.media import MediaFile, image_file
from studio.progress import track

WINNERS = {"model_a": "left", "model_b": "right", "tie": "tie", "both_bad": "both_bad"}
OUTCOMES = ("left", "right", "tie", "both_bad")
MAX_TEXT_CHARS = 200_000
MAX_NAME_CHARS = 200
MAX_KEY_CHARS = 200


@dataclass(frozen=True)
class ImportedVote:
    """One judgement between two outputs named by the model that wrote them."""

    line: int
    prompt: str
    left_model: str
    left_text: str | None     # None: the side is an image (`left_media`)
    right_model: str
    right_text: str | None
    outcome: str          # left | right | tie | both_bad
    rater: str
    key: str              # idempotency key: a hash of the content, or the key an export carried
    rationale: str | None = None
    decision_ms: int | None = None
    created_at: datetime | None = None
    prompt_set: str | None = None     # None: the set the importer chose for the whole file
    system_prompt: str | None = None
    session_id: str | None = None
    group_id: str | None = None
    left_media: MediaFile | None = None
    right_media: MediaFile | None = None
    textless: bool = False    # the file named the models but not their responses (texts are "")

    def output(self, side: str) -> tuple[str, str]:
        """(contender, content) of one side: its text, or its image's place in the data dir."""
        model, text, media = ((self.left_model, self.left_text, self.left_media) if side == "left"
                              else (self.right_model, self.right_text, self.right_media))
        return model, text if media is None else media.key


def content_key(kind: str, values: dict, seen: Counter) -> str:
    """A stable key for a record's content; the n-th identical record gets its own key."""
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False)
    seen[canonical] += 1
    digest = hashlib.sha256(f"{canonical}\x00{seen[canonical]}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}:{digest}"


def read_vote_file(path: str | Path, *, progress: bool | None = None) -> list[ImportedVote]:
    path = open_user_file(path)
    seen: Counter = Counter()
    votes = [parse_vote(path, number, row, seen)
             for number, row in track(json_lines(path), desc=f"reading {path.name}", unit=" votes",
                                      enabled=progress)]
    if not votes:
        raise InputError(f"{path}: no votes found")
    return votes


def parse_vote(path: Path, number: int, row: dict, seen: Counter) -> ImportedVote:
    """One line of a vote file, in whichever of the two shapes it is."""
    if "response_a" in row or "model_a" in row:
        return _elo_vote(path, number, row, seen)
    if "left_contender" in row or "outcome" in row:
        return _studio_vote(path, number, row, seen)
    raise InputError(f"{path}:{number}: not a vote: expected prompt, response_a, response_b, model_a, model_b, "
                     "winner, judge (or a row of a studio jsonl export)")


def text(path: Path, number: int, row: dict, key: str, *, non_empty: bool = False, required: bool = True,
         limit: int = MAX_TEXT_CHARS) -> str | None:
    """A string field, checked: type, length, no NUL characters."""
    value = field(path, number, row, key, str, non_empty=non_empty, required=required)
    if value is None:
        return None
    if len(value) > limit:
        raise InputError(f"{path}:{number}: field '{key}' is longer than {limit} characters")
    if "\x00" in value:
        raise InputError(f"{path}:{number}: field '{key}' contains a NUL character")
    return value


def _elo_vote(path: Path, number: int, row: dict, seen: Counter) -> ImportedVote:
    limits = {"model_a": MAX_NAME_CHARS, "model_b": MAX_NAME_CHARS, "judge": MAX_NAME_CHARS}
    textless = "response_a" not in row and "response_b" not in row
    if textless:
        return _textless_vote(path, number, row, seen, limits)
    values = {k: text(path, number, row, k, non_empty=k in ("prompt", "model_a", "model_b", "judge"),
                      limit=limits.get(k, MAX_TEXT_CHARS))
              for k in ("prompt", "response_a", "response_b", "model_a", "model_b", "judge")}
    winner = field(path, number, row, "winner", str)
    if winner not in WINNERS:
        raise InputError(f"{path}:{number}: field 'winner' must be one of {', '.join(WINNERS)}, got {winner!r:.40}")
    if values["model_a"].strip() == values["model_b"].strip() and values["response_a"] == values["response_b"]:
        raise InputError(f"{path}:{number}: both sides are the same output")
    rationale = text(path, number, row, "rationale", required=False)
    key = content_key("vote", {**values, "winner": winner}, seen)
    return ImportedVote(line=number, prompt=values["prompt"].strip(), left_model=values["model_a"].strip(),
                        left_text=values["response_a"], right_model=values["model_b"].strip(),
                        right_text=values["response_b"], outcome=WINNERS[winner],
                        rater=values["judge"].strip(), key=key, rationale=rationale)


def _textless_vote(path: Path, number: int, row: dict, seen: Counter, limits: dict) -> ImportedVote:
    """A battle naming the two models and the outcome, without their responses."""
    values = {k: text(path, number, row, k, non_empty=True, limit=limits[k]) for k in ("model_a", "model_b", "judge")}
    if "prompt" in row or "question_id" not in row:
        prompt = text(path, number, row, "prompt", non_empty=True).strip()
    else:
        question = field(path, number, row, "question_id", (str, int))
        prompt = f"question {question}"
    winner = field(path, number, row, "winner", str)
    if winner not in WINNERS:
        raise InputError(f"{path}:{number}: field 'winner' must be one of {', '.join(WINNERS)}, got {winner!r:.40}")
    if values["model_a"].strip() == values["model_b"].strip():
        raise InputError(f"{path}:{number}: both sides name the same model and no responses tell them apart")
    key = content_key("vote", {**values, "prompt": prompt, "winner": winner, "textless": True}, seen)
    return ImportedVote(line=number, prompt=prompt, left_model=values["model_a"].strip(), left_text="",
                        right_model=values["model_b"].strip(), right_text="", outcome=WINNERS[winner],
                        rater=values["judge"].strip(), key=key,
                        rationale=text(path, number, row, "rationale", required=False), textless=True)


MEDIA_HINT = (" next to the file: export into the data dir, or copy the exporting studio's media/ folder "
              "beside the file")


def _image_side(path: Path, number: int, row: dict, side: str) -> MediaFile | None:
    """The image of one side, when that side is an image (text null, media named)."""
    if row.get(f"{side}_text") is not None or row.get(f"{side}_media") is None:
        return None
    relative = text(path, number, row, f"{side}_media", non_empty=True, limit=1000)
    return image_file(path.parent, relative, where=f"{path}:{number}", missing_hint=MEDIA_HINT)


def _studio_vote(path: Path, number: int, row: dict, seen: Counter) -> ImportedVote:
    media = {side: _image_side(path, number, row, side) for side in ("left", "right")}
    names = {k: text(path, number, row, k, non_empty=True, limit=MAX_NAME_CHARS)
             for k in ("left_contender", "right_contender", "rater")}
    values = {"prompt": text(path, number, row, "prompt", non_empty=True)}
    for side, image in media.items():
        if image is None:
            values[f"{side}_text"] = text(path, number, row, f"{side}_text")
        else:
            values[f"{side}_text"], values[f"{side}_image"] = None, image.sha256
    outcome = field(path, number, row, "outcome", str)
    if outcome not in OUTCOMES:
        raise InputError(f"{path}:{number}: field 'outcome' must be one of {', '.join(OUTCOMES)}, got {outcome!r:.40}")
    if names["left_contender"].strip() == names["right_contender"].strip() and \
            (values["left_text"], values.get("left_image")) == (values["right_text"], values.get("right_image")):
        raise InputError(f"{path}:{number}: both sides are the same output")
    decision_ms = field(path, number, row, "decision_ms", int, required=False)
    if decision_ms is not None and not 0 <= decision_ms < 2**31:
        raise InputError(f"{path}:{number}: field 'decision_ms' must be a time in milliseconds, got {decision_ms}")
    optional = {k: text(path, number, row, k, required=False, limit=MAX_NAME_CHARS)
                for k in ("prompt_set", "session_id", "group_id", "idempotency_key")}
    if optional["session_id"] is not None and len(optional["session_id"]) > 100:
        raise InputError(f"{path}:{number}: field 'session_id' is longer than 100 characters")
    if optional["group_id"] is not None and len(optional["group_id"]) > 100:
        raise InputError(f"{path}:{number}: field 'group_id' is longer than 100 characters")
    key = optional["idempotency_key"] or content_key("vote", {**names, **values, "outcome": outcome}, seen)
    if not key.strip():
        raise InputError(f"{path}:{number}: field 'idempotency_key' is empty")
    return ImportedVote(
        line=number, prompt=values["prompt"].strip(), left_model=names["left_contender"].strip(),
        left_text=values["left_text"], right_model=names["right_contender"].strip(),
        right_text=values["right_text"], outcome=outcome, rater=names["rater"].strip(), key=key,
        rationale=text(path, number, row, "rationale", required=False) or None, decision_ms=decision_ms,
        created_at=_time(path, number, row), prompt_set=(optional["prompt_set"] or "").strip() or None,
        system_prompt=text(path, number, row, "system_prompt", required=False) or None,
        session_id=optional["session_id"], group_id=optional["group_id"], left_media=media["left"],
        right_media=media["right"])


def _time(path: Path, number: int, row: dict[str, Any]) -> datetime | None:
    value = field(path, number, row, "created_at", str, required=False)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"{path}:{number}: field 'created_at' is not an ISO 8601 time: {value!r:.40}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
