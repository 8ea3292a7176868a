"""Preference pairs made elsewhere, one JSON object a line, in any of these shapes:

- TRL with an explicit prompt: `{"prompt", "chosen", "rejected"}` (strings, or lists of
  `{"role", "content"}` messages: TRL's conversational format);
- TRL implicit / Anthropic HH: `{"chosen", "rejected"}` holding whole dialogues
  (`"\\n\\nHuman: ...\\n\\nAssistant: ..."`, or message lists) that share everything up to
  the last assistant turn, which becomes the prompt;
- the vote format of `../shared/data/prefs/elo_*.jsonl` (see `votes.py`).

Pairs name no display order, so each is stored on a side picked by a hash of its content
(the same on every import) rather than always chosen-left, which would fake a position
bias. Models come from `chosen_model`/`rejected_model`, or `model_a`/`model_b` with
`winner`; otherwise the outputs belong to a contender named `unattributed`. The rater is
`judge` or `rater` when given, else the file. A `label` of 0.5 (a kept tie) is a tie.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.exchange.dialogue import render, split_prompt
from studio.exchange.lines import field, json_lines, open_user_file
from studio.exchange.votes import MAX_NAME_CHARS, ImportedVote, content_key, parse_vote, text
from studio.progress import track

UNATTRIBUTED = "unattributed"


def read_prefs_file(path: str | Path, *, progress: bool | None = None) -> list[ImportedVote]:
    path = open_user_file(path)
    seen: Counter = Counter()
    votes = [_pair(path, number, row, seen)
             for number, row in track(json_lines(path), desc=f"reading {path.name}", unit=" pairs",
                                      enabled=progress)]
    if not votes:
        raise InputError(f"{path}: no preference pairs found")
    return votes


def _pair(path: Path, number: int, row: dict[str, Any], seen: Counter) -> ImportedVote:
    if "response_a" in row:
        return parse_vote(path, number, row, seen)
    where = f"{path}:{number}"
    for key in ("chosen", "rejected"):
        if key not in row or row[key] is None:
            raise InputError(f"{where}: missing field '{key}'")
    if isinstance(row["chosen"], list) or isinstance(row.get("prompt"), list):
        prompt, system, chosen, rejected = _conversation(where, row)
    else:
        chosen = text(path, number, row, "chosen")
        rejected = text(path, number, row, "rejected")
        system = None
        if row.get("prompt") is not None:
            prompt = text(path, number, row, "prompt", non_empty=True)
        else:
            found = split_prompt(chosen, rejected)
            if found is None:
                raise InputError(f"{where}: missing field 'prompt' (and 'chosen'/'rejected' are not HH dialogues "
                                 "sharing everything before the last 'Assistant:' turn)")
            prompt, chosen, rejected = found
    if len(prompt) > 200_000 or "\x00" in prompt:
        raise InputError(f"{where}: the prompt is longer than 200000 characters or contains a NUL character")
    chosen_model, rejected_model = _models(path, number, row)
    if chosen_model == rejected_model and chosen == rejected:
        raise InputError(f"{where}: 'chosen' and 'rejected' are the same output")
    rater = (text(path, number, row, "judge", required=False, limit=MAX_NAME_CHARS)
             or text(path, number, row, "rater", required=False, limit=MAX_NAME_CHARS) or "").strip()
    tie = _is_tie(where, row.get("label"))
    values = {"prompt": prompt, "system": system, "chosen": chosen, "rejected": rejected,
              "chosen_model": chosen_model, "rejected_model": rejected_model, "rater": rater, "tie": tie}
    key = content_key("pref", values, seen)
    chosen_left = int(key[-1], 16) % 2 == 0
    left, right = ((chosen_model, chosen), (rejected_model, rejected))[:: 1 if chosen_left else -1]
    outcome = "tie" if tie else "left" if chosen_left else "right"
    return ImportedVote(line=number, prompt=prompt.strip(), left_model=left[0], left_text=left[1],
                        right_model=right[0], right_text=right[1], outcome=outcome,
                        rater=rater or f"import:{path.name}"[:MAX_NAME_CHARS], key=key,
                        rationale=text(path, number, row, "rationale", required=False) or None,
                        system_prompt=system)


def _conversation(where: str, row: dict[str, Any]) -> tuple[str, str | None, str, str]:
    chosen, rejected = _messages(where, row, "chosen"), _messages(where, row, "rejected")
    if row.get("prompt") is not None:
        prompt = _messages(where, row, "prompt")
    else:
        shared = 0
        while shared < min(len(chosen), len(rejected)) - 1 and chosen[shared] == rejected[shared]:
            shared += 1
        prompt, chosen, rejected = chosen[:shared], chosen[shared:], rejected[shared:]
    for name, answer in (("chosen", chosen), ("rejected", rejected)):
        if len(answer) != 1 or answer[0]["role"] != "assistant":
            raise InputError(f"{where}: field '{name}' must end the conversation with one assistant message")
    system = "\n\n".join(m["content"] for m in prompt if m["role"] == "system") or None
    turns = [m for m in prompt if m["role"] != "system"]
    if not turns or turns[-1]["role"] != "user":
        raise InputError(f"{where}: the prompt must end with a user message")
    prompt_text = turns[0]["content"] if len(turns) == 1 else render(turns)
    if not prompt_text.strip():
        raise InputError(f"{where}: the prompt is empty")
    return prompt_text, system, chosen[0]["content"], rejected[0]["content"]


def _messages(where: str, row: dict[str, Any], key: str) -> list[dict[str, str]]:
    value = row[key]
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: field '{key}' must be a non-empty list of messages")
    messages = []
    for message in value:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str) \
                or message.get("role") not in ("system", "user", "assistant"):
            raise InputError(f"{where}: field '{key}' holds a message that is not "
                             "{\"role\": system|user|assistant, \"content\": text}")
        if "\x00" in message["content"] or len(message["content"]) > 200_000:
            raise InputError(f"{where}: a message in '{key}' contains a NUL character or is too long")
        messages.append({"role": message["role"], "content": message["content"]})
    return messages


def _models(path: Path, number: int, row: dict[str, Any]) -> tuple[str, str]:
    def name(key: str) -> str | None:
        value = text(path, number, row, key, required=False, limit=MAX_NAME_CHARS)
        return value.strip() if value and value.strip() else None

    if name("chosen_model") or name("rejected_model"):
        return name("chosen_model") or UNATTRIBUTED, name("rejected_model") or UNATTRIBUTED
    winner = field(path, number, row, "winner", str, required=False)
    model_a, model_b = name("model_a"), name("model_b")
    if model_a and model_b and winner in ("model_a", "model_b"):
        return (model_a, model_b) if winner == "model_a" else (model_b, model_a)
    return UNATTRIBUTED, UNATTRIBUTED


def _is_tie(where: str, label: Any) -> bool:
    if label is None or isinstance(label, bool):
        return False
    if not isinstance(label, int | float):
        raise InputError(f"{where}: field 'label' must be a number (0.5 for a tie), got {type(label).__name__}")
    return abs(label - 0.5) < 1e-9
