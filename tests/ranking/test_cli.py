"""`studio leaderboard` in its three formats and `studio agreement` as a table and JSON."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from studio.commands import load_all
from tests.ranking.helpers import write_votes

COLUMNS = ["contender", "score", "rating", "ci_low", "ci_high", "votes", "rank", "rank_low", "rank_high"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from studio.api import Studio

    folder = tmp_path_factory.mktemp("cli") / "data"
    votes = [{"model_a": a, "model_b": b, "winner": w, "judge": j, "prompt": p}
             for p in ("P1?", "P2?") for j in ("ann", "bob")
             for a, b, w in (("alpha", "beta", "model_a"), ("beta", "gamma", "model_a"), ("gamma", "alpha", "tie"))]
    with Studio.open(folder) as studio:
        studio.import_votes(write_votes(folder.parent / "votes.jsonl", votes))
    return str(folder)


def run(*args: str) -> str:
    result = CliRunner().invoke(load_all(), list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_leaderboard_csv_has_the_documented_columns(data):
    board = pd.read_csv(io.StringIO(run("leaderboard", "--data", data, "--bootstrap", "50", "--format", "csv")))
    assert list(board.columns) == COLUMNS
    assert board.contender.tolist() == ["alpha", "beta", "gamma"] and board["rank"].tolist() == [1, 2, 3]
    assert board.score.sum() == pytest.approx(1.0) and (board.ci_low < board.ci_high).all()


def test_leaderboard_json_is_seeded_and_null_without_intervals(data):
    first = json.loads(run("leaderboard", "--data", data, "-b", "30", "--seed", "4", "-f", "json"))
    assert first == json.loads(run("leaderboard", "--data", data, "-b", "30", "--seed", "4", "-f", "json"))
    assert list(first[0]) == COLUMNS
    bare = json.loads(run("leaderboard", "--data", data, "--bootstrap", "0", "--format", "json"))
    assert bare[0]["ci_low"] is None and bare[0]["votes"] == 8


def test_leaderboard_table_for_people(data):
    lines = run("leaderboard", "--data", data, "-b", "20").splitlines()
    assert lines[0].split() == ["rank", "contender", "score", "rating", "ci_low", "ci_high", "ranks", "votes"]
    assert lines[1].split()[:2] == ["1", "alpha"] and len(lines) == 4


def test_leaderboard_refuses_an_unknown_format(data):
    result = CliRunner().invoke(load_all(), ["leaderboard", "--data", data, "--format", "xml"])
    assert result.exit_code != 0 and "xml" in result.output


def test_agreement_json_and_table(data):
    report = json.loads(run("agreement", "--data", data, "--json"))
    assert report["units"] == 6 and report["percent_agreement"] == 1.0
    assert [(p["rater_a"], p["rater_b"], p["shared"]) for p in report["cohen"]] == [("ann", "bob", 6)]
    assert {r["rater"]: r["votes"] for r in report["per_rater"]} == {"ann": 6, "bob": 6}
    table = run("agreement", "--data", data)
    assert "krippendorff_alpha" in table and "Cohen's kappa per rater pair" in table and "per rater" in table
