"""Migration 0005 on the first released schema: old votes can be excluded and included, and
the migration steps down to the revision before it and back."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "first-schema.db"


def test_an_upgraded_first_schema_database_excludes_and_includes_old_votes(tmp_path):
    from alembic import command
    from alembic.script import ScriptDirectory

    from studio.api import Studio
    from studio.store import Store
    from studio.store.migrate import alembic_config

    shutil.copyfile(FIXTURE, tmp_path / "studio.db")
    url = f"sqlite:///{tmp_path / 'studio.db'}"
    store = Store(url, check_schema=False)
    store.upgrade()
    with store.engine.begin() as connection:      # down through 0005's downgrade to the one before it ...
        config = alembic_config(connection)
        before = ScriptDirectory.from_config(config).get_revision("0005").down_revision
        command.downgrade(config, before)
    assert store.schema_revision() == before
    store.upgrade()                               # ... and up again
    store.close()
    with Studio.open(url, data_dir=tmp_path / "data") as studio:
        assert sorted(studio.comparisons()["rater"]) == ["ana", "bo", "bo"]
        studio.exclude_rater("bo")
        assert studio.comparisons()["rater"].tolist() == ["ana"]
        assert studio.stats()["excluded_votes"] == 2
        studio.include_rater("bo")
        assert len(studio.comparisons()) == 3
