"""The root Typer app and what every command shares (the --data option, opening a studio)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from studio.api import Studio

app = typer.Typer(
    name="studio",
    help=("Feedback Studio: rate generative-model outputs side by side, store the votes, "
          "train reward models on them, and export preference datasets.\n\n"
          "Every command takes --data: a data dir (database, media, queue and checkpoints "
          "inside; default $STUDIO_DATA or ./studio-data) or a database URL such as "
          "postgresql://user@host/db."),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are plain: "[default: ...]" must print, not vanish as markup
)

DataOption = Annotated[
    str | None,
    typer.Option("--data", "-d", metavar="DIR_OR_URL",
                 help="Data dir or database URL [default: $STUDIO_DATA or ./studio-data]"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ArtifactsOption = Annotated[
    str | None,
    typer.Option("--artifacts", metavar="URL",
                 help="Where media and models live: a directory or s3://bucket/prefix "
                      "[default: $STUDIO_ARTIFACTS_URL, [studio] artifacts_url, else the data dir]"),
]


def open_studio(data: str | None, **overrides: Any) -> Studio:
    from studio.api import Studio

    return Studio.open(data, **overrides)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def print_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    """A plain aligned table on stdout (readable in a terminal, greppable in a pipe)."""
    if not rows:
        typer.echo("(nothing)")
        return
    columns = columns or list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)
