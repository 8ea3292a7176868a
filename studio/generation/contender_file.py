"""Declaring a contender in the data dir's `studio.toml` (what `studio contenders add` does).

The new `[[contenders]]` table is appended to the file's text (comments and layout kept),
the whole result is validated by the same code that reads the file at start-up, and only
then does it replace the file: on any error the file is left exactly as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from studio.config import read_config_file
from studio.contender_spec import ContenderSpec
from studio.errors import ConfigError, InputError


def parse_param(text: str) -> tuple[str, Any]:
    """`key=value` from the command line: the value read as TOML when it is a TOML value
    (`0.7`, `64`, `true`, `"quoted"`), else taken as a plain string (`Be brief.`)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise InputError(f"--param takes key=value, got {text!r}")
    try:
        value = tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def contender_toml(spec: ContenderSpec) -> str:
    """The `[[contenders]]` table declaring `spec`."""
    lines = ["[[contenders]]", f"name = {_value(spec.name)}", f"kind = {_value(spec.kind)}",
             f"backend = {_value(spec.backend)}", f"model = {_value(spec.model)}"]
    if spec.params:
        inner = ", ".join(f"{key} = {_value(value)}" for key, value in spec.params.items())
        lines.append(f"params = {{ {inner} }}")
    return "\n".join(lines) + "\n"


def append_contender(config_file: Path, spec: ContenderSpec) -> None:
    """Append `spec` to `config_file` (created if missing) after validating the result."""
    config_file = Path(config_file)
    original = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    separator = "" if not original else ("\n" if original.endswith("\n") else "\n\n")
    text = original + separator + contender_toml(spec)
    config_file.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=config_file.parent, prefix=".studio-", suffix=".toml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        try:
            read_config_file(Path(temporary))
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(temporary, str(config_file))) from None
        os.replace(temporary, config_file)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string, once DEL (allowed raw in JSON) is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")
    raise ConfigError(f"cannot write {value!r} to studio.toml (strings, numbers and booleans only)")
