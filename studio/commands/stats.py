"""`studio stats`: what the studio holds."""

from __future__ import annotations

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table


@app.command("stats")
def stats(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Count prompts, contenders, generations, votes, raters, jobs and reward models, and say
    which pair sampler the pool runs ([pool] sampling) and why."""
    with open_studio(data) as studio:
        counts = studio.stats()
        sets = studio.prompt_sets()
        sampler = studio.sampler_status()
    if as_json:
        print_json({**counts, "prompt_sets": sets, "sampler": sampler.to_dict()})
        return
    print_table([{"what": k, "count": v} for k, v in counts.items()])
    typer.echo(f"pair sampler: {sampler.sampler} ({sampler.reason})")
    if sets:
        print_table([{"prompt set": k, "prompts": v} for k, v in sets.items()])
