"""Outputs generated elsewhere (e.g. on a GPU cluster), to be rated in the studio.

One JSON object a line, either one output:

    {"prompt": "...", "contender": "llama-3-8b", "response": "..."}
    {"prompt": "...", "contender": "sdxl-turbo", "image": "images/0001.png"}

or every contender's output for a prompt:

    {"prompt": "...", "responses": {"llama-3-8b": "...", "qwen-2-7b": "..."}}

Optional: `prompt_set`, `system_prompt`, `seed` (int), `latency_ms` (number), `params`
(an object). `model` is accepted for `contender`. Image paths are relative to the file's
folder and may not leave it. Outputs are stored once per (prompt, contender, content), so
importing the same file again adds nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Any

from studio.errors import InputError
from studio.exchange.lines import field, json_lines, open_user_file
from studio.exchange.media import MediaFile, image_file
from studio.exchange.votes import MAX_NAME_CHARS, MAX_TEXT_CHARS, text
from studio.progress import track

MAX_PARAMS_BYTES = 10_000


@dataclass(frozen=True)
class ImportedGeneration:
    line: int
    prompt: str
    contender: str
    text: str | None = None
    media: MediaFile | None = None
    prompt_set: str | None = None
    system_prompt: str | None = None
    seed: int | None = None
    latency_ms: float | None = None
    params: dict[str, Any] = dataclass_field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "image" if self.media is not None else "text"


def read_generation_file(path: str | Path, *, progress: bool | None = None) -> list[ImportedGeneration]:
    path = open_user_file(path)
    outputs: list[ImportedGeneration] = []
    for number, row in track(json_lines(path), desc=f"reading {path.name}", unit=" lines", enabled=progress):
        outputs.extend(_outputs(path, number, row))
    if not outputs:
        raise InputError(f"{path}: no generations found")
    kinds: dict[str, tuple[str, int]] = {}
    for output in outputs:
        first = kinds.setdefault(output.contender, (output.kind, output.line))
        if first[0] != output.kind:
            raise InputError(f"{path}:{output.line}: contender '{output.contender}' gave a {first[0]} output on "
                             f"line {first[1]} and a {output.kind} output here: a contender makes one kind")
    return outputs


def _outputs(path: Path, number: int, row: dict[str, Any]) -> list[ImportedGeneration]:
    prompt = text(path, number, row, "prompt", non_empty=True).strip()
    common = {
        "line": number, "prompt": prompt,
        "prompt_set": (text(path, number, row, "prompt_set", required=False, limit=MAX_NAME_CHARS) or "").strip() or None,
        "system_prompt": text(path, number, row, "system_prompt", required=False) or None,
        "seed": _seed(path, number, row), "latency_ms": _latency(path, number, row),
        "params": _params(path, number, row),
    }
    if "responses" in row:
        responses = field(path, number, row, "responses", dict)
        if not responses:
            raise InputError(f"{path}:{number}: field 'responses' is empty")
        found = []
        for contender, response in responses.items():
            name = _name(path, number, contender)
            found.append(ImportedGeneration(contender=name, text=_response(path, number, response, contender),
                                            **common))
        return found
    if "contender" not in row and "model" not in row:
        raise InputError(f"{path}:{number}: missing field 'contender'")
    contender = _name(path, number, row.get("contender", row.get("model")))
    has_text, has_image = row.get("response") is not None, row.get("image") is not None
    if has_text == has_image:
        raise InputError(f"{path}:{number}: give exactly one of 'response' (text) or 'image' (a file path)")
    if has_text:
        return [ImportedGeneration(contender=contender, text=text(path, number, row, "response"), **common)]
    relative = field(path, number, row, "image", str)
    media = image_file(path.parent, relative, where=f"{path}:{number}")
    return [ImportedGeneration(contender=contender, media=media, **common)]


def _name(path: Path, number: int, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{path}:{number}: a contender name must be a non-empty string, got {value!r:.40}")
    if len(value) > MAX_NAME_CHARS or "\x00" in value:
        raise InputError(f"{path}:{number}: contender name is longer than {MAX_NAME_CHARS} characters "
                         "or contains a NUL character")
    return value.strip()


def _response(path: Path, number: int, value: Any, contender: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{path}:{number}: the response of '{contender:.40}' must be str, got {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS or "\x00" in value:
        raise InputError(f"{path}:{number}: the response of '{contender:.40}' is longer than {MAX_TEXT_CHARS} "
                         "characters or contains a NUL character")
    return value


def _seed(path: Path, number: int, row: dict[str, Any]) -> int | None:
    seed = field(path, number, row, "seed", int, required=False)
    if seed is not None and not -(2**63) <= seed < 2**63:
        raise InputError(f"{path}:{number}: field 'seed' does not fit in 64 bits")
    return seed


def _latency(path: Path, number: int, row: dict[str, Any]) -> float | None:
    latency = field(path, number, row, "latency_ms", (int, float), required=False)
    if latency is not None and (not math.isfinite(latency) or latency < 0):
        raise InputError(f"{path}:{number}: field 'latency_ms' must be a time >= 0, got {latency}")
    return None if latency is None else float(latency)


def _params(path: Path, number: int, row: dict[str, Any]) -> dict[str, Any]:
    params = field(path, number, row, "params", dict, required=False) or {}
    encoded = json.dumps(params, ensure_ascii=False, allow_nan=True)
    if len(encoded.encode("utf-8", "surrogatepass")) > MAX_PARAMS_BYTES:
        raise InputError(f"{path}:{number}: field 'params' is larger than {MAX_PARAMS_BYTES} bytes")
    if "\\u0000" in encoded:
        raise InputError(f"{path}:{number}: field 'params' contains a NUL character")
    return params


def pairs_to_rate(outputs: dict[int, list[tuple[int, str, str]]],
                  already: set[frozenset[int]]) -> list[tuple[int, tuple[int, int]]]:
    """Pairs for raters from imported outputs: for each prompt, every two outputs of
    different contenders of the same kind, skipping pairs an item already shows.

    `outputs`: prompt id -> [(generation id, contender, kind)]. Returns (prompt id,
    (left, right)) with the sides in an order drawn from the pair's ids, so it is random
    across pairs but the same on every import."""
    import hashlib
    import itertools

    pairs = []
    for prompt_id in sorted(outputs):
        unique = sorted(set(outputs[prompt_id]))
        for (a, contender_a, kind_a), (b, contender_b, kind_b) in itertools.combinations(unique, 2):
            if contender_a == contender_b or kind_a != kind_b or frozenset((a, b)) in already:
                continue
            flip = hashlib.sha256(f"{a}:{b}".encode()).digest()[0] & 1
            pairs.append((prompt_id, (b, a) if flip else (a, b)))
            already.add(frozenset((a, b)))
    return pairs
