"""`studio improve` and `studio lift`: train a contender's next version from the votes, and
see by how much each version beats its parent in the arena."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table
from studio.commands.contenders import contenders_app
from studio.policy.config import DPOSettings

DEFAULTS = DPOSettings()


class Method(StrEnum):
    dpo = "dpo"
    rm_dpo = "rm-dpo"


SUMMARY = ["contender", "parent", "method", "pairs", "prompts", "tie", "both_bad", "loss", "reward_accuracy",
           "steps", "pairs_per_s", "wall_s"]
LIFT = ["contender", "parent", "method", "enabled", "votes", "win_rate", "ci_low", "ci_high", "verdict",
        "predicted_win_rate"]


@app.command("improve")
def improve(
    contender: Annotated[str, typer.Argument(help="The text contender to improve (a transformers model).")],
    method: Annotated[Method, typer.Option(
        "--method", help="dpo: DPO on the human votes on its outputs (ties and both-bad left out); rm-dpo: "
                         "sample answers, let the active reward model pick best and worst, DPO on those "
                         "(refused unless the reward model beats chance beyond the noise).")] = Method.dpo,
    epochs: Annotated[int | None, typer.Option(
        "--epochs", min=1, help=f"Passes over the pairs [default: {DEFAULTS.epochs}].")] = None,
    learning_rate: Annotated[float | None, typer.Option("--learning-rate", min=0.0,
                                                        help=f"LoRA's learning rate [default: {DEFAULTS.learning_rate:g}].")] = None,
    beta: Annotated[float | None, typer.Option("--beta", min=0.0, help="DPO's beta: how far the new version "
                                               f"may move from its parent [default: {DEFAULTS.beta:g}].")] = None,
    samples: Annotated[int, typer.Option("--samples", min=2, help="rm-dpo: answers per prompt.")] = 4,
    max_prompts: Annotated[int, typer.Option("--max-prompts", min=1, help="rm-dpo: prompts to sample.")] = 64,
    background: Annotated[bool, typer.Option(
        "--background", help="Queue it for `studio worker` instead of running it here.")] = False,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train CONTENDER@v2 (v3, ...) from the votes with a LoRA adapter and register it; it
    enters the arena at once against its parent (see `studio lift`)."""
    settings = {k: v for k, v in {"epochs": epochs, "learning_rate": learning_rate, "beta": beta}.items()
                if v is not None}
    with open_studio(data) as studio:
        result = studio.improve(contender, method=method.value, background=background, samples=samples,
                                max_prompts=max_prompts, requested_by="cli",
                                progress=False if as_json else None, **settings)
    if background:
        typer.echo(f"job {result.id}: {result.status} (see `studio jobs`)")
        return
    if as_json:
        print_json(result)
    else:
        print_table([{"metric": key, "value": result.get(key)} for key in SUMMARY if key in result])


@app.command("lift")
def lift(
    contender: Annotated[str | None, typer.Argument(help="One family (the original's name) or one version; "
                                                    "default: every improved version.")] = None,
    min_votes: Annotated[int, typer.Option("--min-votes", min=1, help="Votes needed before a verdict.")] = 20,
    data: DataOption = None,
    as_json: JsonOption = False,
) -> None:
    """Each improved version's win rate against its parent from human votes (ties half, 95%
    interval), beside the active reward model's predicted win rate on the same outputs."""
    with open_studio(data) as studio:
        frame = studio.lift(contender, min_votes=min_votes)
    rows = frame.to_dict(orient="records")
    if as_json:
        print_json(rows)
    else:
        print_table(rows, LIFT)


@contenders_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="The contender to take out of the arena.")],
            data: DataOption = None) -> None:
    """Take a contender out of the arena (e.g. a version that turned out worse); it stays in
    the database with its outputs and votes."""
    with open_studio(data) as studio:
        studio.disable_contender(name)
    typer.echo(f"contender {name} disabled: no new pairs; its votes stay")


@contenders_app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="The contender to put back in the arena.")],
           data: DataOption = None) -> None:
    """Put a disabled contender back in the arena."""
    with open_studio(data) as studio:
        studio.enable_contender(name)
    typer.echo(f"contender {name} enabled")
