"""`studio export`: preference datasets that train as they are (TRL) and load in `datasets`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json

FORMAT_HELP = ("trl (prompt/chosen/rejected), trl-implicit (prompt folded into both), trl-conversational "
               "(message lists), kto (prompt/completion/label), hf (a `datasets` folder for load_from_disk, "
               "images as Image), or jsonl, csv, parquet (every column of every vote).")


@app.command("export")
def export(
    format: Annotated[str, typer.Option("--format", "-f", help=FORMAT_HELP)],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (a folder for hf, or with "
                                                                 "--split). It appears only when complete.")] = None,
    to_store: Annotated[str | None, typer.Option("--to-store", metavar="NAME",
                                                 help="Instead of --out: store the export in the studio's "
                                                      "artifact store (data dir or s3://) under the key "
                                                      "exports/NAME/<UTC time>, printed when done.")] = None,
    aggregate: Annotated[str, typer.Option("--aggregate", help="raw: one row per vote; majority: one row per "
                                                               "pair, with vote count and agreement.")] = "raw",
    ties: Annotated[str, typer.Option("--ties", help="drop ties, or keep them (pair formats: two rows, one "
                                                     "each way, label 0.5 / margin 0). Pair formats always "
                                                     "drop 'both bad'.")] = "drop",
    split: Annotated[list[str] | None, typer.Option("--split", metavar="NAME=FRACTION",
                                                    help="Hold out prompts, e.g. test=0.1 (repeatable); the "
                                                         "rest is train. No prompt is in two splits.")] = None,
    prompt_set: Annotated[str | None, typer.Option("--set", help="Only this prompt set.")] = None,
    contender: Annotated[list[str] | None, typer.Option("--contender", help="Only votes with this contender on "
                                                        "either side (repeatable).")] = None,
    rater: Annotated[list[str] | None, typer.Option("--rater", help="Only this rater's votes (repeatable).")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only votes cast at or after this time "
                                                              "(ISO 8601, UTC unless it says).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Only votes cast before this time.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Only votes from this source (ui, "
                                                                "import:FILE, ...).")] = None,
    min_agreement: Annotated[float | None, typer.Option("--min-agreement", help="With --aggregate majority: "
                                                        "only pairs where at least this share of votes "
                                                        "agree (0-1).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file, or a folder an earlier "
                                                        "export wrote.")] = False,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress",
                                                  help="Show a progress bar [default: in a terminal].")] = None,
    as_json: JsonOption = False,
    data: DataOption = None,
) -> None:
    """Export votes as a preference dataset (streamed: memory stays flat on any size)."""
    from studio.exchange.split import parse

    with open_studio(data) as studio:
        summary = studio.export(out, format=format, aggregate=aggregate, ties=ties, split=parse(split or []),
                                prompt_set=prompt_set, contenders=contender or None, raters=rater or None,
                                since=since, until=until, source=source, min_agreement=min_agreement,
                                force=force, progress=progress, to_store=to_store)
    if as_json:
        print_json({"format": summary.format, "path": str(summary.path), "rows": summary.rows,
                    "paths": {k: str(v) for k, v in summary.paths.items()}, "votes_read": summary.comparisons,
                    "key": summary.key})
        return
    for name, rows in summary.rows.items():
        typer.echo(f"{name}: {rows} rows -> {summary.paths[name]}")
    where = f"the artifact store as {summary.key}" if summary.key else summary.path
    typer.echo(f"{summary.comparisons} votes read, {summary.total_rows} rows written to {where}")
