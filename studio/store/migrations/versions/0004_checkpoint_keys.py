"""reward-model checkpoints by artifact key: stored paths become keys relative to the store

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:00:00

Before this revision `reward_models.checkpoint_path` held the path the training process saw
(`/home/ana/studio-data/reward-models/rm-...`, or `studio-data/reward-models/rm-...`
relative to its working directory), which no other machine, and no process started
elsewhere, can open. Checkpoints were always saved in the data dir's `reward-models/`, so
the key is what follows that folder: `reward-models/rm-...`, relative to the artifact store
(the data dir by default), the same on every machine. A path without that folder is left
as it is (an absolute one still loads as a local path).
"""

from pathlib import PurePath

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FOLDER = "reward-models"


def as_key(stored: str) -> str:
    parts = PurePath(stored.replace("\\", "/")).parts
    if FOLDER not in parts[:-1]:
        return stored
    last = len(parts) - 1 - parts[::-1].index(FOLDER)
    return "/".join((FOLDER, *parts[last + 1:]))


def upgrade() -> None:
    models = sa.table('reward_models', sa.column('id'), sa.column('checkpoint_path'))
    bind = op.get_bind()
    rows = bind.execute(sa.select(models.c.id, models.c.checkpoint_path)).all()
    changed = [{'row_id': row_id, 'key': as_key(path)} for row_id, path in rows if as_key(path) != path]
    if changed:
        bind.execute(models.update().where(models.c.id == sa.bindparam('row_id'))
                     .values(checkpoint_path=sa.bindparam('key')), changed)


def downgrade() -> None:
    """Keys stay keys: relative to the data dir, which is where older versions looked too
    when run from the data dir's parent with a relative --data; nothing to undo safely."""
