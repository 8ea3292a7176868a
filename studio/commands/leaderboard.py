"""`studio leaderboard` and `studio agreement`: who wins, how sure we are, and whether the
raters agree."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table

SetOption = Annotated[str | None, typer.Option("--set", help="Only votes on prompts of this prompt set.")]
SourceOption = Annotated[str | None, typer.Option("--source", help="Only votes from this source, e.g. "
                                                                   "'ui' or 'import:votes.jsonl'.")]
COLUMNS = ["contender", "score", "rating", "ci_low", "ci_high", "votes", "rank", "rank_low", "rank_high"]
STYLE_COLUMNS = ["contender", "rating", "ci_low", "ci_high", "rank", "rank_low", "rank_high", "raw_rating",
                 "raw_ci_low", "raw_ci_high", "raw_rank", "raw_rank_low", "raw_rank_high", "votes"]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command("leaderboard")
def leaderboard(
    data: DataOption = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", "-b", min=0,
                                           help="Bootstrap rounds for the 95% intervals (0: no intervals).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap resampling.")] = 0,
    output: Annotated[Format, typer.Option("--format", "-f", help="table, csv or json.")] = Format.table,
    prompt_set: SetOption = None,
    source: SourceOption = None,
    style_control: Annotated[bool, typer.Option("--style-control", help="Hold answer length and markdown "
                                                "(headers, lists, bold) equal: style-controlled ratings beside "
                                                "the raw ones, and each style covariate's coefficient.")] = False,
) -> None:
    """Bradley-Terry leaderboard with 95% bootstrap intervals.

    Columns: score (sums to 1), rating (400*log10 scale, mean 1000) with its interval,
    votes, rank and the ranks it takes over the bootstrap rounds ("2 to 4"). A tie counts
    half a win to each side. Excluded raters' votes are left out (`studio raters`)."""
    with open_studio(data) as studio:
        if style_control:
            fitted = studio.style_leaderboard(bootstrap=bootstrap, seed=seed, prompt_set=prompt_set, source=source)
            _style_output(fitted, output)
            return
        board = studio.leaderboard(bootstrap=bootstrap, seed=seed, prompt_set=prompt_set, source=source)
    board = board[COLUMNS]
    if output is Format.csv:
        typer.echo(board.to_csv(index=False), nl=False)
    elif output is Format.json:
        print_json([{k: _plain(v) for k, v in row.items()} for row in board.to_dict(orient="records")])
    else:
        print_table([{"rank": row["rank"], "contender": row["contender"], "score": f"{row['score']:.6f}",
                      "rating": f"{row['rating']:.1f}", "ci_low": _points(row["ci_low"]),
                      "ci_high": _points(row["ci_high"]), "ranks": _ranks(row["rank_low"], row["rank_high"]),
                      "votes": row["votes"]}
                     for row in board.to_dict(orient="records")],
                    ["rank", "contender", "score", "rating", "ci_low", "ci_high", "ranks", "votes"])


def _style_output(fitted, output: Format) -> None:
    board, coefficients = fitted.board[STYLE_COLUMNS], fitted.coefficients
    if output is Format.csv:
        typer.echo(board.to_csv(index=False), nl=False)
        return
    if output is Format.json:
        print_json({"board": [{k: _plain(v) for k, v in row.items()} for row in board.to_dict(orient="records")],
                    "coefficients": [{k: _plain(v) for k, v in row.items()}
                                     for row in coefficients.to_dict(orient="records")]})
        return
    print_table([{"rank": row["rank"], "contender": row["contender"], "rating": f"{row['rating']:.1f}",
                  "interval": f"{_points(row['ci_low'])} to {_points(row['ci_high'])}",
                  "ranks": _ranks(row["rank_low"], row["rank_high"]), "raw_rating": f"{row['raw_rating']:.1f}",
                  "raw_interval": f"{_points(row['raw_ci_low'])} to {_points(row['raw_ci_high'])}",
                  "raw_ranks": _ranks(row["raw_rank_low"], row["raw_rank_high"]), "votes": row["votes"]}
                 for row in board.to_dict(orient="records")])
    typer.echo("\nstyle coefficients (log-odds per scaled unit; points: rating points)")
    print_table([{"feature": row["feature"], "coefficient": f"{row['coefficient']:.4f}",
                  "interval": f"{_figure(row['ci_low'])} to {_figure(row['ci_high'])}",
                  "points": f"{row['points']:.1f}"} for row in coefficients.to_dict(orient="records")])


def _ranks(low, high) -> str:
    low, high = _plain(low), _plain(high)
    if low is None or high is None:
        return ""
    return f"{low}" if low == high else f"{low} to {high}"


@app.command("agreement")
def agreement(data: DataOption = None, as_json: JsonOption = False, prompt_set: SetOption = None,
              source: SourceOption = None) -> None:
    """Agreement between raters who judged the same pair of outputs.

    Percent agreement (S1 counting ties, S2 decisive votes only), Cohen's kappa per rater
    pair, Fleiss' kappa, Krippendorff's alpha, and a per-rater table."""
    with open_studio(data) as studio:
        report = studio.agreement(prompt_set=prompt_set, source=source)
    if as_json:
        print_json(report.to_dict())
        return
    print_table([{"figure": k, "value": _figure(v)} for k, v in report.summary().items()])
    if not report.cohen.empty:
        typer.echo("\nCohen's kappa per rater pair")
        print_table([{k: _figure(v) for k, v in row.items()} for row in report.cohen.to_dict(orient="records")])
    typer.echo("\nper rater")
    print_table([{k: _figure(v) for k, v in row.items()} for row in report.per_rater.to_dict(orient="records")])


def _plain(value):
    import pandas as pd

    if value is None or pd.isna(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _points(value: float) -> str:
    return "" if value != value else f"{value:.1f}"


def _figure(value) -> str:
    value = _plain(value)
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)
