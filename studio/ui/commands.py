"""`studio serve`, `studio demo` and `studio users ...`: the rating studio in a browser.

The web app's own commands, kept with the UI they start so that nothing under `studio.cli`
imports the UI: `studio.cli` registers them on the root app beside `studio/commands/`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from studio.commands._app import ArtifactsOption, DataOption, app, open_studio
from studio.errors import ConfigError

HostOption = Annotated[str | None, typer.Option(
    "--host", help="Address to listen on (default: server.host in studio.toml, else 127.0.0.1). "
                   "Use 0.0.0.0 for other machines, with --auth.")]
PortOption = Annotated[int | None, typer.Option(
    "--port", help="Port to listen on (default: server.port in studio.toml, else 7860).")]
AuthOption = Annotated[Path | None, typer.Option(
    "--auth", metavar="USERS_TOML",
    help="Users file (from `studio users add`): raters and admins sign in. Without it raters type "
         "a name, and the admin tabs open only in a browser that opened the admin link printed at start.")]
NoWorkerOption = Annotated[bool, typer.Option(
    "--no-worker", help="Do not start the background worker (run `studio worker` yourself).")]
NoPoolOption = Annotated[bool, typer.Option(
    "--no-pool", help="Do not pre-generate pairs in this process (another process keeps the pool full).")]
PromptSetOption = Annotated[str | None, typer.Option(
    "--prompt-set", help="Show raters only pairs from this prompt set (default: all).")]


@app.command("serve")
def serve(data: DataOption = None, host: HostOption = None, port: PortOption = None,
          auth: AuthOption = None, no_worker: NoWorkerOption = False, no_pool: NoPoolOption = False,
          prompt_set: PromptSetOption = None, artifacts: ArtifactsOption = None) -> None:
    """Start the rating studio (Gradio) with its pre-generation pool and background worker."""
    studio = open_studio(data, **({"artifacts_url": artifacts} if artifacts else {}))
    try:
        _serve(studio, host=host, port=port, auth=auth, worker=not no_worker, pool=not no_pool,
               prompt_set=prompt_set)
    finally:
        studio.close()


@app.command("demo")
def demo(data: DataOption = None, host: HostOption = None, port: PortOption = None,
         no_worker: NoWorkerOption = False) -> None:
    """Try the studio: makes ./studio-data if absent, adds 50 starter prompts and the two built-in SmolLM2 contenders, and serves at http://127.0.0.1:7860 (open the admin link it prints for Training, Data and Settings)."""
    from studio.generation.builtin import demo_contenders
    from studio.ui.starter_prompts import starter_prompts

    studio = open_studio(data)
    try:
        added = studio.add_prompts(starter_prompts(), source="starter")
        contenders = [studio.add_contender(spec) for spec in demo_contenders()]
        typer.echo(f"data dir {studio.config.data_dir}: {len(added)} starter prompts, contenders "
                   f"{', '.join(c.name for c in contenders)}; pairs appear as the pool generates them")
        # `make run` runs `studio demo` (make sets MAKELEVEL for the commands it runs).
        restart = "make run" if os.environ.get("MAKELEVEL") else "studio demo"
        _serve(studio, host=host, port=port, auth=None, worker=not no_worker, pool=True, prompt_set=None,
               restart=restart)
    finally:
        studio.close()


def _serve(studio, *, host: str | None, port: int | None, auth: Path | None, worker: bool, pool: bool,
           prompt_set: str | None, restart: str = "studio serve") -> None:
    from studio.ui.auth import Users
    from studio.ui.options import ServeOptions
    from studio.ui.server import serve as run

    server = studio.config.server
    auth_file = auth or (Path(server.auth_file) if server.auth_file else None)
    users = Users.load(auth_file) if auth_file else None
    if users is not None and len(users) == 0:
        raise ConfigError(f"{auth_file}: no users in this file, so nobody could sign in; "
                          f"add one with `studio users add NAME --role admin --file {auth_file}`")
    changes = {k: v for k, v in {"host": host, "port": port, "prompt_set": prompt_set}.items() if v is not None}
    options = ServeOptions.from_config(studio.config, users=users, restart_command=restart, **changes)
    if users is None and not options.loopback:
        typer.echo(f"warning: serving on {options.host} without --auth: anyone who reaches it can rate "
                   "(the admin tabs need the admin link printed below)", err=True)
    run(studio, options, pool=pool, worker=worker)


users_app = typer.Typer(help="Raters and admins who sign in to `studio serve --auth FILE`.", no_args_is_help=True)
app.add_typer(users_app, name="users")

UsersFileOption = Annotated[Path, typer.Option("--file", "-f", help="The users file (TOML) to create or update.")]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Sign-in name: letters, digits, '_', '.', '@' or '-'.")],
    file: UsersFileOption = Path("users.toml"),
    role: Annotated[str, typer.Option("--role", help="rater (rates pairs) or admin (also Training, Data, "
                                                     "Settings).")] = "rater",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first "
                                                                          "line of stdin instead of asking.")] = False,
) -> None:
    """Add a user (or replace their password and role). The file keeps only a salted hash."""
    from studio.ui.auth import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    created = add_user(file, name, password, role)
    typer.echo(f"{'added' if created else 'updated'} {role} {name} in {file}")


@users_app.command("list")
def users_list(file: UsersFileOption = Path("users.toml")) -> None:
    """Names and roles in a users file (never the hashes)."""
    from studio.commands._app import print_table
    from studio.ui.auth import Users

    users = Users.load(file)
    print_table([{"name": n, "role": users.role(n)} for n in users.names()])
