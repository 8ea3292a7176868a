"""`studio import ...`: bring in prompts, outputs, preference pairs and votes made elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import DataOption, app, open_studio

import_app = typer.Typer(help="Import files. Each file is one transaction: a bad line stops the import with "
                              "file:line and what is wrong, and nothing is written. Re-importing a file adds "
                              "nothing.", no_args_is_help=True)
app.add_typer(import_app, name="import")

SetOption = Annotated[str | None, typer.Option("--set", help="Prompt set [default: the file's name].")]
ProgressOption = Annotated[bool | None, typer.Option("--progress/--no-progress",
                                                     help="Show a progress bar [default: in a terminal].")]


def _report(summary, what: str) -> None:
    typer.echo(f"{summary.added} {what} added, {summary.existing} already present ({summary.read} read)")


@import_app.command("prompts")
def prompts(
    file: Annotated[Path, typer.Argument(help="A .txt (one prompt a line), .jsonl or .csv (a 'prompt' column; "
                                              "optional prompt_set, system_prompt).")],
    prompt_set: Annotated[str | None, typer.Option("--set", help="Prompt set [default: the file's prompt_set "
                                                   "column, or 'default'].")] = None,
    data: DataOption = None,
) -> None:
    """Import prompts for raters to see answers to."""
    with open_studio(data) as studio:
        summary = studio.import_prompts(file, prompt_set=prompt_set)
    _report(summary, "prompts")


@import_app.command("generations")
def generations(
    file: Annotated[Path, typer.Argument(help="JSON Lines: {prompt, contender, response} or {prompt, contender, "
                                              "image: a path next to the file}, or {prompt, responses: {contender: "
                                              "text}}; optional prompt_set, system_prompt, seed, latency_ms, params.")],
    prompt_set: SetOption = None,
    items: Annotated[bool, typer.Option("--items/--no-items", help="Make a pair for raters from every two "
                                                                   "outputs of a prompt (different contenders).")] = True,
    progress: ProgressOption = None,
    data: DataOption = None,
) -> None:
    """Import outputs generated elsewhere (e.g. on a GPU cluster) for raters to judge."""
    with open_studio(data) as studio:
        summary = studio.import_generations(file, prompt_set=prompt_set, items=items, progress=progress)
    _report(summary, "generations")
    typer.echo(f"{summary.items} new pairs ready for raters")


@import_app.command("prefs")
def prefs(
    file: Annotated[Path, typer.Argument(help="JSON Lines of preference pairs: TRL {prompt, chosen, rejected} "
                                              "(text or message lists), Anthropic HH {chosen, rejected} dialogues, "
                                              "or the elo vote format.")],
    prompt_set: SetOption = None,
    progress: ProgressOption = None,
    data: DataOption = None,
) -> None:
    """Import preference pairs made elsewhere; each pair becomes one vote."""
    with open_studio(data) as studio:
        summary = studio.import_prefs(file, prompt_set=prompt_set, progress=progress)
    _report(summary, "pairs")


@import_app.command("votes")
def votes(
    file: Annotated[Path, typer.Argument(help="JSON Lines: prompt, response_a, response_b, model_a, "
                                              "model_b, winner (model_a|model_b|tie|both_bad), judge; "
                                              "or a studio jsonl export (image sides name their files "
                                              "relative to this file's folder: export into the data dir, "
                                              "or copy its media/ folder next to the file).")],
    prompt_set: SetOption = None,
    progress: ProgressOption = None,
    data: DataOption = None,
) -> None:
    """Import human votes between two models' outputs (the elo_*.jsonl format, or a studio export)."""
    with open_studio(data) as studio:
        summary = studio.import_votes(file, prompt_set=prompt_set, progress=progress)
    _report(summary, "votes")


@import_app.command("gold")
def gold(
    file: Annotated[Path, typer.Argument(help="JSON Lines of known right answers: {item_id, answer} (as the item "
                                              "shows the pair) or {left_generation_id, right_generation_id, "
                                              "answer}; answer is left, right, tie or both_bad.")],
    data: DataOption = None,
) -> None:
    """Mark pairs as gold items: served to each rater at [pool] gold_rate (never twice to one
    rater), their votes scored in `studio raters`. A pair no item shows yet gets one."""
    with open_studio(data) as studio:
        marked = studio.import_gold(file)
    typer.echo(f"{marked} gold answers marked")
