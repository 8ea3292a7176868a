"""reward-model activation gate and a held-out set that does not move

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02 15:00:00

`reward_models.gate` keeps the activation gate's decision for each version (better than
chance and than the "longer answer wins" rule on its held-out votes, each beyond the
cluster-robust noise; not worse than the best so far). Versions trained before it have
none and are shown as "not checked"; nothing steers with them until retrained.

`heldout_prompts` records, per prompt (its SHA-256), whether it is held out of reward-model
training. A prompt is assigned the first time a training sees it (split_point below the
heldout_fraction of that moment) and never moves afterwards.
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: a batch rebuild of reward_models would drop a table that
    # predictions reference, which SQLite's foreign keys refuse once there are rows
    op.add_column('reward_models', sa.Column('gate', sa.JSON(), nullable=True))
    op.create_table(
        'heldout_prompts',
        sa.Column('prompt_sha256', sa.String(length=64), nullable=False),
        sa.Column('heldout', sa.Boolean(), nullable=False),
        sa.Column('fraction', sa.Float(), nullable=False),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('prompt_sha256', name=op.f('pk_heldout_prompts')),
    )


def downgrade() -> None:
    op.drop_table('heldout_prompts')
    op.drop_column('reward_models', 'gate')
