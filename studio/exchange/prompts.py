"""Prompt files: `.txt` (one prompt a line), `.jsonl` and `.csv` (a `prompt` column)."""

from __future__ import annotations

from pathlib import Path

from studio.errors import InputError
from studio.exchange.lines import csv_rows, field, json_lines, open_user_file, text_lines
from studio.progress import track
from studio.records import PromptIn

MAX_PROMPT_CHARS = 100_000
MAX_SET_CHARS = 200
FORMATS = (".txt", ".jsonl", ".csv")


def read_prompt_file(path: str | Path, *, prompt_set: str | None = None,
                     progress: bool | None = None) -> list[PromptIn]:
    """Parse a whole prompt file; raise `InputError` naming `file:line` on the first bad line.
    A progress bar shows in a terminal (`progress` forces it on or off)."""
    path = open_user_file(path)
    suffix = path.suffix.lower()
    source = f"import:{path.name}"

    def lines(rows):
        return track(rows, desc=f"reading {path.name}", unit=" lines", enabled=progress)

    if suffix == ".txt":
        prompts = [PromptIn(text=_checked(path, n, line.strip()), prompt_set=prompt_set or "default",
                            source=source)
                   for n, line in lines(text_lines(path)) if line.strip()]
    elif suffix == ".jsonl":
        prompts = [_from_row(path, n, row, prompt_set, source) for n, row in lines(json_lines(path))]
    elif suffix == ".csv":
        prompts = [_from_row(path, n, row, prompt_set, source) for n, row in lines(csv_rows(path))]
    else:
        raise InputError(f"{path}: unknown prompt file type '{suffix}' (use {', '.join(FORMATS)})")
    if not prompts:
        raise InputError(f"{path}: no prompts found")
    return prompts


def _from_row(path: Path, number: int, row: dict, prompt_set: str | None, source: str) -> PromptIn:
    text = field(path, number, row, "prompt", str, non_empty=True).strip()
    row_set = field(path, number, row, "prompt_set", str, required=False) or \
        field(path, number, row, "tag", str, required=False)
    system = field(path, number, row, "system_prompt", str, required=False) or None
    meta = {k: v for k, v in row.items() if k not in ("prompt", "prompt_set", "tag", "system_prompt")
            and v not in (None, "")}
    if row_set is not None and (len(row_set) > MAX_SET_CHARS or "\x00" in row_set):
        raise InputError(f"{path}:{number}: prompt set name is longer than {MAX_SET_CHARS} characters "
                         "or contains a NUL character")
    if system is not None and (len(system) > MAX_PROMPT_CHARS or "\x00" in system):
        raise InputError(f"{path}:{number}: system prompt is longer than {MAX_PROMPT_CHARS} characters "
                         "or contains a NUL character")
    return PromptIn(text=_checked(path, number, text), prompt_set=prompt_set or row_set or "default",
                    system_prompt=system, meta=meta, source=source)


def _checked(path: Path, number: int, text: str) -> str:
    if len(text) > MAX_PROMPT_CHARS:
        raise InputError(f"{path}:{number}: prompt is longer than {MAX_PROMPT_CHARS} characters")
    if "\x00" in text:
        raise InputError(f"{path}:{number}: prompt contains a NUL character")
    return text
