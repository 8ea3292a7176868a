"""`studio contenders ...`: declare and list the contenders raters compare."""

from __future__ import annotations

from typing import Annotated

import typer

from studio.commands._app import DataOption, JsonOption, app, open_studio, print_json, print_table

contenders_app = typer.Typer(help="Contenders: a model plus its generation settings.", no_args_is_help=True)
app.add_typer(contenders_app, name="contenders")


@contenders_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A name for the contender (unique in the studio).")],
    model: Annotated[str, typer.Option("--model", "-m", help="A hub id, a local directory saved with "
                                       "save_pretrained, or a built-in model (smollm2-135m).")] = "",
    kind: Annotated[str | None, typer.Option("--kind", help="text or image (default: from the backend).")] = None,
    backend: Annotated[str | None, typer.Option(
        "--backend", help="transformers (text), diffusers (image) or best_of_n "
                          "(default: diffusers for --kind image, else transformers).")] = None,
    param: Annotated[list[str] | None, typer.Option(
        "--param", "-p", metavar="KEY=VALUE",
        help="A generation setting, repeatable. Text: max_new_tokens, temperature, top_p, top_k, "
             "repetition_penalty, do_sample, system_prompt. Image: steps, guidance, width, height, "
             "negative_prompt. best_of_n: base, n, reward_model.")] = None,
    data: DataOption = None,
) -> None:
    """Declare a contender in the data dir's studio.toml and register it. The file is
    validated like at start-up and left unchanged on any error."""
    from studio.generation.contender_file import parse_param

    params = dict(parse_param(p) for p in param or [])
    with open_studio(data) as studio:
        record = studio.declare_contender(name, model=model, kind=kind, backend=backend, params=params)
        where = studio.config.config_file
    typer.echo(f"contender {record.name} ({record.kind}, {record.backend}) added to {where}")


@contenders_app.command("list")
def list_(data: DataOption = None, as_json: JsonOption = False) -> None:
    """Every contender: model, settings, revision and whether the pool uses it."""
    with open_studio(data) as studio:
        frame = studio.contenders()
    rows = frame.to_dict(orient="records")
    if as_json:
        print_json(rows)
        return
    columns = [c for c in ("name", "kind", "backend", "model", "params", "revision", "enabled") if c in frame]
    print_table(rows, columns)
