"""Vote frames and vote files built by hand for the ranking tests."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def frame(*votes: tuple[str, str, str], raters: list[str] | None = None) -> pd.DataFrame:
    """A vote frame from (left contender, right contender, outcome) triples; each vote gets
    its own pair of generations unless raters are given (then all share one pair)."""
    rows = []
    for number, (left, right, outcome) in enumerate(votes):
        rows.append({"id": number + 1, "left_contender": left, "right_contender": right, "outcome": outcome,
                     "left_generation_id": 2 * number + 1, "right_generation_id": 2 * number + 2,
                     "rater": raters[number] if raters else "r1"})
    return pd.DataFrame(rows, columns=["id", "left_contender", "right_contender", "outcome",
                                       "left_generation_id", "right_generation_id", "rater"])


def judged(*rows: tuple[int, str, str], swapped: set[int] = frozenset()) -> pd.DataFrame:
    """A vote frame for agreement: (unit, rater, outcome) rows, each unit one pair of
    generations (2u, 2u+1); units in `swapped` are shown with the sides the other way round
    for the raters listed (outcome given as the rater saw it)."""
    records = []
    for number, (unit, rater, outcome) in enumerate(rows):
        left, right = 2 * unit, 2 * unit + 1
        if (unit, rater) in swapped:
            left, right = right, left
        records.append({"id": number + 1, "left_generation_id": left, "right_generation_id": right,
                        "left_contender": "a", "right_contender": "b", "rater": rater, "outcome": outcome,
                        "decision_ms": 1000 * (number + 1)})
    return pd.DataFrame(records)


def write_votes(path: Path, votes: list[dict]) -> Path:
    """An elo_*.jsonl vote file from dicts with model_a, model_b, winner, judge (and
    optionally prompt, response_a, response_b)."""
    lines = []
    for number, vote in enumerate(votes):
        prompt = vote.get("prompt", f"Question {number % 3}?")
        lines.append(json.dumps({"prompt": prompt, "response_a": vote.get("response_a", f"{vote['model_a']} on {prompt}"),
                                 "response_b": vote.get("response_b", f"{vote['model_b']} on {prompt}"),
                                 "model_a": vote["model_a"], "model_b": vote["model_b"], "winner": vote["winner"],
                                 "judge": vote["judge"]}))
    path.write_text("\n".join(lines) + "\n")
    return path
