"""`studio features build`: a reward backbone's embeddings of every output, computed once
ahead of head-mode trainings (in the foreground with a progress bar, or on a worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table

features_app = typer.Typer(help="The embedding cache head-mode reward models train on: build it ahead of time.")
app.add_typer(features_app, name="features")


@features_app.command("build")
def build(
    backbone: Annotated[str, typer.Option(
        "--backbone", help="The reward backbone: smollm2-135m (built in, stronger, slow on CPU: about an hour "
                           "for 17,000 outputs on two cores), all-minilm-l6-v2 (built in, fast), a local "
                           "path or a hub id.")] = "smollm2-135m",
    pairs: Annotated[list[Path] | None, typer.Option(
        "--pairs", metavar="FILE", help="Embed the two sides of these JSON Lines files (prompt/chosen/rejected) "
                                        "instead of the studio's outputs; repeat for several.")] = None,
    max_length: Annotated[int | None, typer.Option(
        "--max-length", min=8, help="Tokens per text, as the training will use ([training] max_length).")] = None,
    background: Annotated[bool, typer.Option(
        "--background", help="Queue it for `studio worker` and return at once; follow it with `studio jobs`.")] = False,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Embed every text output (or --pairs files) with a backbone into the cache that
    `studio train --backbone B` (head mode) reads, so the training skips the long part. Only
    what is not cached yet is computed: a build that was cancelled or killed resumes where it
    stopped when run again."""
    with open_studio(data) as studio:
        result = studio.build_features(backbone, pairs_files=pairs or (), max_length=max_length,
                                       background=background, progress=None if not as_json else False)
    if background:
        typer.echo(f"job {result.id}: {result.status}; follow it with `studio jobs` "
                   "(a worker runs it: `studio worker`, or the one `studio serve` starts)")
        return
    if as_json:
        print_json(result)
        return
    print_table([{"metric": key, "value": result[key]}
                 for key in ("backbone", "items", "vectors", "cached_before", "embedded", "per_s", "wall_s",
                             "precision", "cache_dir")
                 if key in result])
