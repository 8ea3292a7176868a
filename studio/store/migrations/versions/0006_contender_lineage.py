"""contender versions: parent, version number and lineage of a contender improved from votes

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-02 14:00:00

`studio improve NAME` trains `NAME@v2` (v3, ...) from the votes on NAME's outputs. The new
contender row names its parent, its version in the family and how it was made (a JSON
lineage: method, votes and prompts used, settings, metrics, library versions, adapter key).
Existing contenders are version 1 with no parent.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no table rebuild on SQLite: the tables pointing at contenders forbid
    # dropping it); parent_id is a plain integer like comparisons.superseded_by.
    op.add_column('contenders', sa.Column('parent_id', sa.Integer(), nullable=True))
    op.add_column('contenders', sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))
    op.add_column('contenders', sa.Column('lineage', sa.JSON(), nullable=True))
    op.create_index('ix_contenders_parent_id', 'contenders', ['parent_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_contenders_parent_id', table_name='contenders')
    # plain DROP COLUMNs for the same reason (SQLite >= 3.35 has them)
    for column in ('lineage', 'version', 'parent_id'):
        op.drop_column('contenders', column)
