"""`studio score`: a reward model's score for a response (or images) to a prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table


@app.command("score")
def score(
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="The prompt.")],
    response: Annotated[list[str] | None, typer.Option(
        "--response", "-r", help="A response to score (repeat for several).")] = None,
    image: Annotated[list[Path] | None, typer.Option(
        "--image", help="An image file to score with an image reward model (repeat for several).")] = None,
    version: Annotated[str, typer.Option("--version", "-v", help="'active', 'latest' or a version "
                                                                  "number.")] = "active",
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score responses (or images) with a reward model: higher is better."""
    if not response and not image:
        raise typer.BadParameter("give at least one --response (or --image for image models)")
    with open_studio(data) as studio:
        model = studio.reward_model(version)
        if image:
            scores = model.score_images(prompt, [str(p) for p in image])
            labels = [str(p) for p in image]
        else:
            scores = model.score_batch([prompt] * len(response), list(response))
            labels = list(response)
    rows = [{"score": s, "output": label} for s, label in zip(scores, labels, strict=True)]
    if as_json:
        print_json({"version": model.version, "scores": rows})
    elif len(rows) == 1:
        typer.echo(f"{rows[0]['score']:.6f}")
    else:
        print_table([{"score": f"{r['score']:.6f}", "output": r["output"][:80]} for r in rows])
