"""`studio db ...`: schema migrations."""

from __future__ import annotations

import typer

from studio.commands._app import DataOption, app

db_app = typer.Typer(help="Database schema: upgrade to the version this studio needs.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def upgrade(data: DataOption = None,
            revision: str = typer.Option("head", help="Target revision (default: the newest).")) -> None:
    """Migrate the database to the newest schema (safe to run twice)."""
    from studio.config import load_config
    from studio.store import Store

    config = load_config(data)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(config.database_url, synchronous=config.sqlite_synchronous, check_schema=False)
    try:
        before, after = store.upgrade(revision)
    finally:
        store.close()
    if before == after:
        typer.echo(f"database already at revision {after}")
    else:
        typer.echo(f"database upgraded: {before or 'empty'} -> {after}")


@db_app.command("current")
def current(data: DataOption = None) -> None:
    """Print the database's schema revision and the one this studio needs."""
    from studio.config import load_config
    from studio.store import Store
    from studio.store.migrate import head_revision

    config = load_config(data)
    store = Store(config.database_url, synchronous=config.sqlite_synchronous, check_schema=False)
    try:
        typer.echo(f"database: {store.schema_revision() or 'empty'}  studio needs: {head_revision()}")
    finally:
        store.close()
