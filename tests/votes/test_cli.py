"""`studio raters` (table, exclude, include), `studio import gold`, `studio stats` naming the
sampler, and `studio leaderboard` with rank intervals and --style-control."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from studio.commands import load_all
from tests.votes.helpers import contenders_with_outputs, vote_on


@pytest.fixture
def data(tmp_path):
    from studio.api import Studio

    folder = tmp_path / "data"
    texts = {"plain": "A short answer.", "fancy": "# Title\n\n- **one**\n- **two**\n\n" + "Long text. " * 40}
    with Studio.open(folder) as studio:
        generations = contenders_with_outputs(studio, ["plain", "fancy", "third"], prompts=3, texts=texts)
        for p in sorted({p for p, _ in generations}):
            for rater in ("ana", "bo"):
                vote_on(studio, generations, rater, "fancy", "plain", prompt=p, session="s1")
                vote_on(studio, generations, rater, "plain", "third", prompt=p, session="s1")
            vote_on(studio, generations, "cy", "third", "fancy", prompt=p, session="s9")
        with studio.store.transaction() as tx:
            item = tx.items.create(min(p for p, _ in generations), [generations[(1, "fancy")],
                                                                   generations[(1, "plain")]])
    (tmp_path / "gold.jsonl").write_text(json.dumps({"item_id": item.id, "answer": "left"}) + "\n")
    return str(folder)


def run(*args: str) -> str:
    result = CliRunner().invoke(load_all(), list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_raters_table_exclude_and_include(data):
    table = run("raters", "--data", data)
    assert table.splitlines()[0].split()[:3] == ["rater", "votes", "excluded"]
    assert {line.split()[0] for line in table.splitlines()[1:]} == {"ana", "bo", "cy"}
    assert run("raters", "exclude", "cy", "--reason", "test", "--data", data).strip() == "cy excluded"
    rows = {r["rater"]: r for r in json.loads(run("raters", "--json", "--data", data))}
    assert rows["cy"]["excluded"] is True and rows["cy"]["votes"] == 3
    assert json.loads(run("stats", "--json", "--data", data))["excluded_votes"] == 3
    assert run("raters", "include", "cy", "--data", data).strip() == "cy counted again"
    assert run("raters", "exclude", "ana", "--session", "s1", "--data", data).strip() == "ana's session s1 excluded"
    result = CliRunner().invoke(load_all(), ["raters", "exclude", "nobody", "--data", data])
    assert result.exit_code != 0


def test_import_gold_and_stats_name_the_sampler(data, tmp_path):
    assert run("import", "gold", str(tmp_path / "gold.jsonl"), "--data", data).strip() == "1 gold answers marked"
    out = run("stats", "--data", data)
    assert "pair sampler: uniform (15 counted votes between the contenders; active sampling starts at" in out
    assert json.loads(run("stats", "--json", "--data", data))["sampler"]["configured"] == "active"


def test_leaderboard_shows_rank_intervals_and_style_control(data):
    table = run("leaderboard", "--data", data, "--bootstrap", "50")
    assert "ranks" in table.splitlines()[0]
    assert any(" to " in line or line.split()[-2].isdigit() for line in table.splitlines()[1:])
    styled = run("leaderboard", "--data", data, "--bootstrap", "50", "--style-control")
    assert "raw_rating" in styled and "style coefficients" in styled and "length" in styled
    parsed = json.loads(run("leaderboard", "--data", data, "--bootstrap", "20", "--style-control", "-f", "json"))
    assert {c["feature"] for c in parsed["coefficients"]} == {"length", "headers", "lists", "bold"}
    assert {"rank_low", "rank_high", "raw_rating"} <= set(parsed["board"][0])
