"""The schema changes only through migrations, and opening a database checks it."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from studio.errors import SchemaError
from studio.store import Store
from studio.store.schema import Base


def test_migrating_an_empty_database_to_head_equals_the_orm_metadata(database_url):
    store = Store(database_url, check_schema=False)
    store.upgrade()
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                Base.metadata)
    store.close()
    assert diff == []


def test_a_new_database_is_created_at_head(database_url):
    from studio.store.migrate import head_revision

    store = Store(database_url)
    assert store.schema_revision() == head_revision()
    store.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    assert store.integrity_check() == "ok"
    store.close()


def test_an_older_schema_is_refused_with_the_command_to_run(tmp_path):
    path = tmp_path / "old.db"
    store = Store(f"sqlite:///{path}")
    store.close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0000'")
    with pytest.raises(SchemaError, match="newer than this studio"):
        Store(f"sqlite:///{path}")


def test_a_foreign_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER)")
    with pytest.raises(SchemaError, match="not a studio database"):
        Store(f"sqlite:///{path}")
