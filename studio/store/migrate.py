"""Schema migrations through Alembic, driven from code (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known(revision_id: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision_id) is not None
    except Exception:
        return False


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_empty(engine: Engine) -> bool:
    return not inspect(engine).get_table_names()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new migration (a developer tool: `python -m studio.store.migrate MSG`)."""
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message=message, autogenerate=True,
                         rev_id=f"{int(head_revision() or '0') + 1:04d}")


if __name__ == "__main__":  # pragma: no cover - developer tool
    import sys
    import tempfile

    from studio.store.engine import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/scratch.db")
        if head_revision():
            upgrade(engine)
        revision(engine, " ".join(sys.argv[1:]) or "schema change")
