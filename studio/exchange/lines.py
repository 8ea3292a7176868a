"""Careful readers for user files: every error names `file:line` and what is wrong.

Readers only parse; writing happens after a whole file parsed, in one transaction, so a
bad line anywhere leaves the database untouched.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from studio.errors import InputError

MAX_LINE_BYTES = 4 * 1024 * 1024  # one JSON line; a longer one is refused, not buffered forever


def open_user_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file")
    return path


def text_lines(path: str | Path, *, max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, str]]:
    """(line number, decoded line without its newline), refusing invalid UTF-8 and huge lines."""
    path = open_user_file(path)
    with path.open("rb") as handle:
        number = 0
        while True:
            raw = handle.readline(max_bytes + 2)
            if not raw:
                return
            number += 1
            if len(raw.rstrip(b"\r\n")) > max_bytes:
                raise InputError(f"{path}:{number}: line is longer than {max_bytes} bytes")
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}:{number}: invalid UTF-8 at byte {exc.start}") from exc
            yield number, line.rstrip("\r\n")


def json_lines(path: str | Path, *, max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSON Lines file. NaN and Infinity
    (not JSON) and escaped lone surrogates (not text) are refused like any malformed line."""
    for number, line in text_lines(path, max_bytes=max_bytes):
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise InputError(f"{path}:{number}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
        except ValueError as exc:
            raise InputError(f"{path}:{number}: not valid JSON ({exc})") from exc
        except RecursionError as exc:
            raise InputError(f"{path}:{number}: not valid JSON (nested too deeply)") from exc
        if not isinstance(value, dict):
            raise InputError(f"{path}:{number}: expected a JSON object, got {type(value).__name__}")
        if _SURROGATE.search(line) and not _encodable(value):
            raise InputError(f"{path}:{number}: a string holds an unpaired surrogate escape (\\ud800-\\udfff), "
                             "which is not text")
        yield number, value


_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _encodable(value: Any) -> bool:
    """True when every string in a parsed JSON value is valid Unicode text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def csv_rows(path: str | Path, *, max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for a CSV file with a header row."""
    path = open_user_file(path)
    lines = text_lines(path, max_bytes=max_bytes)
    buffer = io.StringIO("\n".join(line for _, line in lines))
    reader = csv.DictReader(buffer)
    try:
        for row in reader:
            if None in row:
                raise InputError(f"{path}:{reader.line_num}: more fields than the header has")
            yield reader.line_num, row
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from exc


def field(path: Path | str, number: int, row: dict[str, Any], key: str, kind: type | tuple[type, ...] = str,
          *, required: bool = True, non_empty: bool = False) -> Any:
    """Fetch `row[key]`, checking presence and type, with a `file:line` error otherwise."""
    if key not in row or row[key] is None:
        if required:
            raise InputError(f"{path}:{number}: missing field '{key}'")
        return None
    value = row[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise InputError(f"{path}:{number}: field '{key}' must be {names}, got {type(value).__name__}")
    if non_empty and isinstance(value, str) and not value.strip():
        raise InputError(f"{path}:{number}: field '{key}' is empty")
    return value
