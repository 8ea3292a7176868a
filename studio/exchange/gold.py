"""Gold answers files: JSON Lines, one known right answer per line.

    {"item_id": 12, "answer": "left"}                                  # as the item shows it
    {"left_generation_id": 3, "right_generation_id": 8, "answer": "right"}

`answer` is left, right, tie or both_bad (also `winner`, for files written like vote logs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.errors import InputError
from studio.exchange.lines import field, json_lines

ANSWERS = ("left", "right", "tie", "both_bad")


@dataclass(frozen=True)
class GoldLine:
    line: int
    answer: str
    item_id: int | None = None
    left: int | None = None
    right: int | None = None


def read_gold(path: str | Path) -> list[GoldLine]:
    """Every line of the file, checked (file:line: what is wrong), before anything is written."""
    found = []
    for number, row in json_lines(path):
        answer = row.get("answer", row.get("winner"))
        if answer not in ANSWERS:
            raise InputError(f"{path}:{number}: 'answer' must be one of {', '.join(ANSWERS)}, got {answer!r}")
        if "item_id" in row:
            found.append(GoldLine(number, answer, item_id=field(path, number, row, "item_id", int)))
        elif "left_generation_id" in row or "right_generation_id" in row:
            left = field(path, number, row, "left_generation_id", int)
            right = field(path, number, row, "right_generation_id", int)
            if left == right:
                raise InputError(f"{path}:{number}: a gold pair needs two different generations")
            found.append(GoldLine(number, answer, left=left, right=right))
        else:
            raise InputError(f"{path}:{number}: name the pair: 'item_id', or 'left_generation_id' and "
                             "'right_generation_id'")
    if not found:
        raise InputError(f"{path}: no gold answers in the file")
    return found
