"""Export formats: what each row looks like. Pure functions from a chunk of votes (or of
majority pairs) to output columns; no files, no database.

Formats:
- `trl`: `{"prompt", "chosen", "rejected"}`, TRL's preference format with an explicit prompt.
- `trl-implicit`: `{"chosen", "rejected"}`, each an HH dialogue with the prompt folded in.
- `trl-conversational`: the same as lists of `{"role", "content"}` messages; the prompt
  starts with the system message when both sides were generated with the same one.
- `kto`: unpaired `{"prompt", "completion", "label"}`: the winner desirable, the loser not,
  both undesirable on a "both bad" vote; ties say nothing about either side and are left out.
- `hf`: the `trl` columns plus who and when, and the images as `datasets.Image` columns.
- `jsonl`, `csv`, `parquet`: the votes themselves, every column.

A side's content is its text. In `trl` and `hf`, an image side is a `datasets.Image` in
`chosen_image` / `rejected_image` (its text column empty), so those exports of image votes
are dataset folders; the other formats write an image's media path (relative to the data dir).

A tie never becomes a win. A preference row can only say which side is better, so ties are
dropped from the preference formats, or with `ties="keep"` written as two rows, one each
way, with `label` 0.5 and `margin` 0.0: TRL's loss (`-logsigmoid(r_chosen - r_rejected -
margin)`) on the pair of rows is smallest when both sides score the same, which is what a
tie says (decisive rows: `label` 1.0, `margin` 1.0). "Both bad" prefers neither side and
says nothing about their order: dropped from the preference formats (as the reward model's
own training does), kept in `kto` (both undesirable) and the vote formats. `handling()`
says what each format does; the dataset card counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from studio.errors import InputError
from studio.exchange.dialogue import fold, turns

Chunk = dict[str, Sequence[Any]]   # columns: name -> values, one per row

PREFERENCE_FORMATS = ("trl", "trl-implicit", "trl-conversational", "hf")
VOTE_FORMATS = ("jsonl", "csv", "parquet")
IMAGE_FORMATS = ("trl", "hf")      # image sides as datasets.Image, so written as a dataset folder
FORMATS = (*PREFERENCE_FORMATS[:3], "kto", "hf", *VOTE_FORMATS)
AGGREGATES = ("raw", "majority")
TIES = ("drop", "keep")
# The file each format writes (hf writes a dataset directory).
SUFFIX = {"trl": ".jsonl", "trl-implicit": ".jsonl", "trl-conversational": ".jsonl", "kto": ".jsonl",
          "jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet", "hf": ""}

MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
TIME = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Options:
    format: str
    aggregate: str = "raw"
    ties: str = "drop"
    images: bool = False          # trl, hf: `chosen_image` / `rejected_image` columns (datasets.Image)

    def __post_init__(self) -> None:
        for name, value, allowed in (("format", self.format, FORMATS), ("aggregate", self.aggregate, AGGREGATES),
                                     ("ties", self.ties, TIES)):
            if value not in allowed:
                raise InputError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")

    @property
    def majority(self) -> bool:
        return self.aggregate == "majority"


def schema(o: Options) -> pa.Schema:
    """The output columns and their types, fixed before the first row is read."""
    if o.format in VOTE_FORMATS:
        return pa.schema(_PAIR_VOTE_COLUMNS if o.majority else _VOTE_COLUMNS)
    text = MESSAGES if o.format == "trl-conversational" else pa.string()
    if o.format == "kto":
        fields = [("prompt", pa.string()), ("completion", pa.string()), ("label", pa.bool_())]
    elif o.format == "trl-implicit":
        fields = [("chosen", text), ("rejected", text)]
    else:
        fields = [("prompt", text), ("chosen", text), ("rejected", text)]
    if o.images and o.format in IMAGE_FORMATS:
        fields += [("chosen_image", pa.string()), ("rejected_image", pa.string())]
    if o.format == "hf":
        fields += [("prompt_set", pa.string()), ("chosen_contender", pa.string()),
                   ("rejected_contender", pa.string()), ("comparison_id", pa.int64()), ("created_at", TIME)]
        if not o.majority:
            fields += [("rater", pa.string())]
    if o.majority:
        fields += [("votes", pa.int64()), ("agreement", pa.float64())]
    if o.ties == "keep" and o.format in PREFERENCE_FORMATS:
        fields += [("label", pa.float64()), ("margin", pa.float64())]
    return pa.schema(fields)


def handling(o: Options) -> dict[str, str]:
    """What a format does with the votes that prefer neither side, by outcome: "kept" (the
    row says so), "both ways" (a tie as two rows, one each way) or "dropped"."""
    if o.format in VOTE_FORMATS:
        return {"tie": "kept" if o.ties == "keep" else "dropped", "both_bad": "kept"}
    if o.format == "kto":
        return {"tie": "dropped", "both_bad": "kept"}
    return {"tie": "both ways" if o.ties == "keep" else "dropped", "both_bad": "dropped"}


def build(chunk: Chunk, o: Options) -> Chunk:
    """Output columns for one chunk (raw votes, or majority pairs from `aggregate`)."""
    if o.format in VOTE_FORMATS:
        return _votes(chunk, o)
    if o.format == "kto":
        return _kto(chunk, o)
    return _preferences(chunk, o)


def content(text: str | None, media: str | None) -> str:
    return text if text is not None else (media or "")


def winner(outcome: str, left: str | None, right: str | None) -> str | None:
    return left if outcome == "left" else right if outcome == "right" else None


# -- preference pairs -------------------------------------------------------------------------

def _preferences(chunk: Chunk, o: Options) -> Chunk:
    out: Chunk = {name: [] for name in schema(o).names}
    keep_ties = o.ties == "keep"
    for i, outcome in enumerate(chunk["outcome"]):
        if outcome in ("left", "right"):
            rows = [(outcome, "right" if outcome == "left" else "left", 1.0)]
        elif outcome == "tie" and keep_ties:        # one row each way: no side wins
            rows = [("left", "right", 0.5), ("right", "left", 0.5)]
        else:
            continue
        for chosen, rejected, label in rows:
            _preference_row(out, chunk, i, chosen, rejected, label, o)
    return out


def _preference_row(out: Chunk, chunk: Chunk, i: int, chosen: str, rejected: str, label: float,
                    o: Options) -> None:
    prompt = chunk["prompt"][i]
    chosen_text, rejected_text = _side(chunk, chosen, i, o), _side(chunk, rejected, i, o)
    if o.format == "trl-conversational":
        prompt = _prompt_messages(chunk, i)
        chosen_text = [{"role": "assistant", "content": chosen_text}]
        rejected_text = [{"role": "assistant", "content": rejected_text}]
    elif o.format == "trl-implicit":
        chosen_text, rejected_text = fold(prompt, chosen_text), fold(prompt, rejected_text)
    if "prompt" in out:
        out["prompt"].append(prompt)
    out["chosen"].append(chosen_text)
    out["rejected"].append(rejected_text)
    if o.images and o.format in IMAGE_FORMATS:
        out["chosen_image"].append(chunk[f"{chosen}_media"][i])
        out["rejected_image"].append(chunk[f"{rejected}_media"][i])
    if o.format == "hf":
        _hf_extras(out, chunk, i, chosen, rejected, o)
    if o.majority:
        out["votes"].append(chunk["votes"][i])
        out["agreement"].append(chunk["agreement"][i])
    if o.ties == "keep":
        out["label"].append(label)
        out["margin"].append(1.0 if label == 1.0 else 0.0)


def _side(chunk: Chunk, side: str, i: int, o: Options) -> str | None:
    """A side's text; an image's media path, except where the image itself is written."""
    text, media = chunk[f"{side}_text"][i], chunk[f"{side}_media"][i]
    if o.images and o.format in IMAGE_FORMATS and text is None and media is not None:
        return None                 # the image is in chosen_image / rejected_image
    return content(text, media)


def _hf_extras(out: Chunk, chunk: Chunk, i: int, chosen: str, rejected: str, o: Options) -> None:
    out["prompt_set"].append(chunk["prompt_set"][i])
    out["chosen_contender"].append(chunk[f"{chosen}_contender"][i])
    out["rejected_contender"].append(chunk[f"{rejected}_contender"][i])
    if o.majority:
        out["comparison_id"].append(chunk["first_comparison_id"][i])
        out["created_at"].append(chunk["last_created_at"][i])
    else:
        out["comparison_id"].append(chunk["comparison_id"][i])
        out["created_at"].append(chunk["created_at"][i])
        out["rater"].append(chunk["rater"][i])


def _prompt_messages(chunk: Chunk, i: int) -> list[dict[str, str]]:
    prompt = chunk["prompt"][i]
    messages = turns(prompt) or [{"role": "user", "content": prompt}]
    shared = chunk["system_prompt"][i]
    left = chunk["left_system_prompt"][i] or shared
    right = chunk["right_system_prompt"][i] or shared
    if left and left == right:
        messages = [{"role": "system", "content": left}, *messages]
    return messages


# -- unpaired (KTO) ---------------------------------------------------------------------------

def _kto(chunk: Chunk, o: Options) -> Chunk:
    out: Chunk = {name: [] for name in schema(o).names}
    for i, outcome in enumerate(chunk["outcome"]):
        if outcome == "tie":
            continue
        labels = {"left": (True, False), "right": (False, True), "both_bad": (False, False)}[outcome]
        for side, label in zip(("left", "right"), labels, strict=True):
            out["prompt"].append(chunk["prompt"][i])
            out["completion"].append(content(chunk[f"{side}_text"][i], chunk[f"{side}_media"][i]))
            out["label"].append(label)
            if o.majority:
                out["votes"].append(chunk["votes"][i])
                out["agreement"].append(chunk["agreement"][i])
    return out


# -- votes, every column ----------------------------------------------------------------------

_VOTE_COLUMNS = [
    ("comparison_id", pa.int64()), ("created_at", TIME), ("prompt_set", pa.string()), ("prompt_id", pa.int64()),
    ("prompt", pa.string()), ("system_prompt", pa.string()), ("left_contender", pa.string()),
    ("right_contender", pa.string()), ("left_generation_id", pa.int64()), ("right_generation_id", pa.int64()),
    ("left_text", pa.string()), ("right_text", pa.string()), ("left_media", pa.string()),
    ("right_media", pa.string()), ("outcome", pa.string()), ("winner", pa.string()), ("rater", pa.string()),
    ("rationale", pa.string()), ("decision_ms", pa.int64()), ("session_id", pa.string()),
    ("group_id", pa.string()), ("item_id", pa.int64()), ("source", pa.string()), ("idempotency_key", pa.string()),
]
_PAIR_VOTE_COLUMNS = [
    ("first_comparison_id", pa.int64()), ("first_created_at", TIME), ("last_created_at", TIME),
    *[c for c in _VOTE_COLUMNS[2:16]],
    ("votes", pa.int64()), ("left_votes", pa.int64()), ("right_votes", pa.int64()), ("tie_votes", pa.int64()),
    ("both_bad_votes", pa.int64()), ("agreement", pa.float64()),
]


def _votes(chunk: Chunk, o: Options) -> Chunk:
    names = schema(o).names
    keep = None if o.ties == "keep" else [i for i, outcome in enumerate(chunk["outcome"]) if outcome != "tie"]
    if keep is not None and len(keep) == len(chunk["outcome"]):
        keep = None
    out: Chunk = {}
    for name in names:
        if name == "winner":
            values = [left if outcome == "left" else right if outcome == "right" else None
                      for outcome, left, right in zip(chunk["outcome"], chunk["left_contender"],
                                                      chunk["right_contender"], strict=True)]
        else:
            values = chunk[name]
        out[name] = values if keep is None else [values[i] for i in keep]
    return out
