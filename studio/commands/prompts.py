"""`studio prompts ...`: add prompts from files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import DataOption, app, open_studio

prompts_app = typer.Typer(help="Prompts raters will see answers to.", no_args_is_help=True)
app.add_typer(prompts_app, name="prompts")


@prompts_app.command("add")
def add(
    file: Annotated[Path, typer.Argument(help="A .txt (one prompt a line), .jsonl or .csv (a 'prompt' column).")],
    prompt_set: Annotated[str | None, typer.Option("--set", help="Prompt set to add them to "
                                                   "[default: the file's prompt_set column, or 'default'].")] = None,
    data: DataOption = None,
) -> None:
    """Add every prompt in FILE, all or nothing; prompts already present are skipped."""
    with open_studio(data) as studio:
        summary = studio.import_prompts(file, prompt_set=prompt_set)
    typer.echo(f"{summary.added} prompts added, {summary.existing} already present ({summary.read} read)")
