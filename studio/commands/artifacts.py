"""`studio artifacts`: where the studio's files live, and moving them to an object store."""

from __future__ import annotations

from typing import Annotated

import typer

from studio.commands._app import DataOption, app

artifacts_app = typer.Typer(help="The artifact store (media, reward models, adapters): show it, or move a "
                                 "data dir's files into an S3-compatible object store.", no_args_is_help=True)
app.add_typer(artifacts_app, name="artifacts")


@artifacts_app.command("show")
def show(data: DataOption = None) -> None:
    """Print where this studio's files live (the URL, never credentials) and check it answers."""
    from studio.artifacts import open_artifacts
    from studio.config import load_config

    store = open_artifacts(load_config(data))
    typer.echo(f"artifacts: {store.url} (reachable)")


@artifacts_app.command("migrate")
def migrate(
    to: Annotated[str, typer.Option("--to", metavar="URL", help="The target store, e.g. s3://bucket/studio "
                                    "(endpoint and keys: AWS_* variables or [artifacts] in studio.toml).")],
    data: DataOption = None,
) -> None:
    """Copy every media file and model directory of this studio's data dir into the store at
    URL, verify each one's sha256 there, then set [studio] artifacts_url in studio.toml.
    Run it again after an interruption: what arrived intact is not sent twice. Stop the
    server and the workers first, and start them again afterwards."""
    from studio.artifacts import LocalArtifactStore, open_artifacts, open_url
    from studio.config import load_config
    from studio.errors import ConfigError
    from studio.services.artifact_migration import migrate_artifacts

    config = load_config(data)
    source = open_artifacts(config)
    if not isinstance(source, LocalArtifactStore):
        raise ConfigError(f"this studio's files are already in {source.url}; migrate copies a data dir's files")
    target = open_url(to, config)
    summary = migrate_artifacts(source, target, config.config_file, local_root=source.root, progress=typer.echo)
    typer.echo(f"done: {config.config_file} now says artifacts_url = {summary.target!r}; the files in "
               f"{source.root} can go once every machine uses it")
