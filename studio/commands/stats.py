"""`studio stats`: what the studio holds."""

from __future__ import annotations

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table


@app.command("stats")
def stats(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Count prompts, contenders, generations, votes, raters, jobs and reward models."""
    with open_studio(data) as studio:
        counts = studio.stats()
        sets = studio.prompt_sets()
    if as_json:
        print_json({**counts, "prompt_sets": sets})
        return
    print_table([{"what": k, "count": v} for k, v in counts.items()])
    if sets:
        print_table([{"prompt set": k, "prompts": v} for k, v in sets.items()])
