"""`studio generate`: pre-generate a contender's outputs in bulk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import DataOption, app, open_studio


@app.command("generate")
def generate(
    contender: Annotated[str, typer.Option("--contender", "-c", help="The contender to generate with.")],
    prompts: Annotated[Path, typer.Option("--prompts", help="A .txt (one prompt a line), .jsonl or .csv "
                                          "(a 'prompt' column); added to the studio if new.")],
    prompt_set: Annotated[str | None, typer.Option("--set", help="Prompt set for the prompts (default: the "
                                                   "file's prompt_set column, or 'default').")] = None,
    n: Annotated[int, typer.Option("--n", min=1, help="Outputs per prompt, each with its own seed.")] = 1,
    seed: Annotated[int | None, typer.Option("--seed", help="Base seed; the same seed gives the same "
                                             "outputs (default: random, still recorded per output).")] = None,
    data: DataOption = None,
) -> None:
    """Generate outputs for every prompt of a file, in batches, with a progress bar. The pool
    then builds rating items from these outputs before generating anything new."""
    from studio.exchange.prompts import read_prompt_file

    items = read_prompt_file(prompts, prompt_set=prompt_set)
    with open_studio(data) as studio:
        ids = studio.add_prompts(items)
        made = studio.generate(contender, ids, n_per_prompt=n, seed=seed, progress=None)
    typer.echo(f"{len(set(made))} outputs of {contender} stored for {len(set(ids))} prompts")
