"""`studio import votes`: the elo_*.jsonl vote format, in one transaction, idempotent."""

from __future__ import annotations

import json

import pytest

from studio.errors import InputError
from tests.conftest import shared_prefs


def vote(prompt="Q?", a="A says", b="B says", ma="alpha", mb="beta", winner="model_a", judge="j1"):
    return {"prompt": prompt, "response_a": a, "response_b": b, "model_a": ma, "model_b": mb,
            "winner": winner, "judge": judge}


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_votes_become_contenders_raters_generations_and_comparisons(studio, tmp_path):
    path = write(tmp_path / "votes.jsonl", [vote(), vote(winner="tie", judge="j2"), vote(winner="model_b")])
    summary = studio.import_votes(path)
    assert (summary.read, summary.added) == (3, 3)
    frame = studio.comparisons()
    assert list(frame.outcome) == ["left", "tie", "right"]
    assert set(frame.left_contender) == {"alpha"} and set(frame.rater) == {"j1", "j2"}
    assert set(frame.source) == {"import:votes.jsonl"} and set(frame.prompt_set) == {"votes"}
    assert studio.stats()["generations"] == 2  # each output stored once


def test_reimporting_the_same_file_adds_nothing_but_identical_lines_count_twice(studio, tmp_path):
    path = write(tmp_path / "votes.jsonl", [vote(), vote()])
    assert studio.import_votes(path).added == 2
    again = studio.import_votes(path)
    assert (again.added, again.existing) == (0, 2)
    assert studio.stats()["comparisons"] == 2


@pytest.mark.parametrize("row, message", [
    ({**vote(), "winner": "model_c"}, "votes.jsonl:2: field 'winner' must be one of"),
    ({k: v for k, v in vote().items() if k != "judge"}, "votes.jsonl:2: missing field 'judge'"),
    ({**vote(), "response_a": 3}, "votes.jsonl:2: field 'response_a' must be str"),
    ({**vote(), "model_a": ""}, "votes.jsonl:2: field 'model_a' is empty"),
])
def test_a_malformed_line_stops_the_import_and_writes_nothing(studio, tmp_path, row, message):
    path = write(tmp_path / "votes.jsonl", [vote(), row, vote(judge="j3")])
    with pytest.raises(InputError) as error:
        studio.import_votes(path)
    assert message in str(error.value)
    assert studio.stats() | {"contenders": 0} == {k: 0 for k in studio.stats()}


@pytest.mark.slow
def test_the_llmfao_crowd_votes_import_whole(sqlite_studio):
    path = shared_prefs("elo_llmfao_crowd_votes.jsonl")
    summary = sqlite_studio.import_votes(path)
    counts = sqlite_studio.stats()
    assert summary.added == 8931 == counts["comparisons"]
    assert counts["contenders"] == 59 and counts["prompts"] == 13
