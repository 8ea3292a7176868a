"""`studio import ...`: bring in prompts, outputs and votes made elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import DataOption, app, open_studio

import_app = typer.Typer(help="Import files: each file is one transaction, and re-importing adds nothing.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")

SetOption = Annotated[str | None, typer.Option("--set", help="Prompt set [default: the file's name].")]


@import_app.command("votes")
def votes(
    file: Annotated[Path, typer.Argument(help="JSON Lines: prompt, response_a, response_b, model_a, "
                                              "model_b, winner (model_a|model_b|tie|both_bad), judge.")],
    prompt_set: SetOption = None,
    data: DataOption = None,
) -> None:
    """Import human votes between two models' outputs (the elo_*.jsonl format)."""
    with open_studio(data) as studio:
        summary = studio.import_votes(file, prompt_set=prompt_set)
    typer.echo(f"{summary.added} votes added, {summary.existing} already present ({summary.read} read)")
