"""A database written by the first released schema (tests/fixtures/first-schema.db, made by
tests/fixtures/make_first_schema_db.py at revision 0001, rows in every table) upgrades to
head with every row intact, on SQLite through `studio db upgrade` and on PostgreSQL, and
the upgraded studio reads and writes as usual.

When a migration drops or renames a column on purpose, name it in CHANGED_COLUMNS (table
-> {old column: new column or None}) so the comparison follows it; nothing else may vanish.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text

from tests.reliability.cli import run_cli

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "first-schema.db"
FIRST_REVISION = "0001"
CHANGED_COLUMNS: dict[str, dict[str, str | None]] = {}


def read_rows(engine) -> dict[str, dict[tuple, dict]]:
    """Every row of every table, by primary key, with values as SQLAlchemy reads them."""
    metadata = MetaData()
    metadata.reflect(engine)
    found = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            key = [c.name for c in table.primary_key.columns]
            found[table.name] = {tuple(row[k] for k in key): dict(row)
                                 for row in connection.execute(select(table)).mappings()}
    return found


def assert_intact(before: dict, after: dict) -> None:
    assert set(before) <= set(after), f"tables gone: {set(before) - set(after)}"
    for table, rows in before.items():
        assert rows, f"the fixture has no rows in {table}"
        assert set(rows) == set(after[table]), f"{table}: rows added or lost by the upgrade"
        renames = CHANGED_COLUMNS.get(table, {})
        for key, old in rows.items():
            new = after[table][key]
            for column, value in old.items():
                target = renames.get(column, column)
                if target is None:
                    continue
                assert target in new, f"{table}.{column} vanished in the upgrade"
                assert _same(new[target], value), f"{table} {key}: {column} was {value!r}, now {new[target]!r}"


def _same(new, old) -> bool:
    if hasattr(old, "tzinfo") and hasattr(new, "tzinfo"):       # SQLite keeps naive UTC, PostgreSQL aware
        return old.replace(tzinfo=None) == new.replace(tzinfo=None)
    return new == old


def check_usable(target) -> None:
    """The upgraded studio: old votes read back, and a new vote is written next to them."""
    from studio.api import Studio

    with Studio.open(target) as studio:
        votes = studio.comparisons()
        assert votes["idempotency_key" if "idempotency_key" in votes else "id"].notna().all()
        assert sorted(votes["rater"]) == ["ana", "bo", "bo"] and set(votes["outcome"]) == {"left", "tie", "both_bad"}
        assert studio.reward_models()["version"].tolist() == [1]
        assert studio.reward_models()["gate"].tolist() == ["not checked"]     # trained before the gate (0008)
        assert sorted(studio.jobs()["status"]) == ["done", "failed"]
        new = studio.vote(left=3, right=4, outcome="right", rater="cy", idempotency_key="after-upgrade")
        assert new.created and new.comparison.id > 3
        assert studio.store.integrity_check() == "ok"


def test_the_first_schema_on_sqlite_upgrades_to_head_with_every_row(tmp_path):
    from studio.errors import SchemaError
    from studio.store.migrate import head_revision

    data = tmp_path / "data"
    data.mkdir()
    shutil.copyfile(FIXTURE, data / "studio.db")
    engine = create_engine(f"sqlite:///{data / 'studio.db'}")
    before = read_rows(engine)
    assert run_cli(["db", "current"], data)[1].split()[1] == FIRST_REVISION
    if head_revision() != FIRST_REVISION:            # an older database is refused until upgraded
        from studio.api import Studio

        with pytest.raises(SchemaError, match="studio db upgrade"):
            Studio.open(data)
    code, out, err = run_cli(["db", "upgrade"], data)
    assert code == 0, err
    assert run_cli(["db", "current"], data)[1].split()[1] == head_revision()
    assert_intact(before, read_rows(engine))
    engine.dispose()
    check_usable(data)


@pytest.mark.postgres
def test_the_first_schema_on_postgresql_upgrades_to_head_with_every_row(postgres_url, tmp_path):
    from studio.store import Store

    fixture = create_engine(f"sqlite:///file:{FIXTURE}?mode=ro&uri=true")
    rows = read_rows(fixture)
    fixture.dispose()
    store = Store(postgres_url, check_schema=False)
    store.upgrade(FIRST_REVISION)
    metadata = MetaData()
    metadata.reflect(store.engine)
    with store.engine.begin() as connection:
        for table in metadata.sorted_tables:
            if table.name in rows:
                connection.execute(table.insert(), list(rows[table.name].values()))
        for table in metadata.sorted_tables:             # explicit ids: move the sequences past them
            if "id" in table.c and table.name in rows:
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                        f"(SELECT max(id) FROM {table.name}))"))
    before = read_rows(store.engine)
    assert before.keys() == rows.keys()
    store.upgrade()
    assert_intact(before, read_rows(store.engine))
    store.close()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "studio.toml").write_text(f'[studio]\ndatabase_url = "{postgres_url}"\n')
    check_usable(tmp_path / "data")


NEXT_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("comparisons") as batch:
        batch.add_column(sa.Column("weight", sa.Float(), nullable=True))
    {extra}


def downgrade():
    pass
"""


@pytest.mark.parametrize("extra, loses_rows", [("", False), ("op.execute('DELETE FROM comparisons WHERE id = 3')", True)])
def test_the_check_follows_a_later_migration_and_catches_one_that_loses_rows(tmp_path, extra, loses_rows):
    """The mechanism with one more revision than today's head: an added column passes, a
    migration that deletes a vote is caught."""
    from alembic import command
    from alembic.script import ScriptDirectory

    from studio.store.migrate import MIGRATIONS_DIR, alembic_config

    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, scripts)
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    (scripts / "versions" / "9999_next.py").write_text(NEXT_MIGRATION.format(rev="9999", down=head, extra=extra))
    database = tmp_path / "studio.db"
    shutil.copyfile(FIXTURE, database)
    engine = create_engine(f"sqlite:///{database}")
    before = read_rows(engine)
    with engine.begin() as connection:
        config = alembic_config(connection)
        config.set_main_option("script_location", str(scripts))
        command.upgrade(config, "head")
    after = read_rows(engine)
    engine.dispose()
    assert all("weight" in row for row in after["comparisons"].values())
    if loses_rows:
        with pytest.raises(AssertionError, match="rows added or lost"):
            assert_intact(before, after)
    else:
        assert_intact(before, after)
