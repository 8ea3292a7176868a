"""contender versions: parent, version number and lineage of a contender improved from votes

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-02 14:00:00

`studio improve NAME` trains `NAME@v2` (v3, ...) from the votes on NAME's outputs. The new
contender row names its parent, its version in the family and how it was made (a JSON
lineage: method, votes and prompts used, settings, metrics, library versions, adapter key).
Existing contenders are version 1 with no parent.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contenders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch_op.add_column(sa.Column('lineage', sa.JSON(), nullable=True))
        batch_op.create_index('ix_contenders_parent_id', ['parent_id'], unique=False)
        batch_op.create_foreign_key('fk_contenders_parent_id_contenders', 'contenders', ['parent_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('contenders', schema=None) as batch_op:
        batch_op.drop_constraint('fk_contenders_parent_id_contenders', type_='foreignkey')
        batch_op.drop_index('ix_contenders_parent_id')
        batch_op.drop_column('lineage')
        batch_op.drop_column('version')
        batch_op.drop_column('parent_id')
