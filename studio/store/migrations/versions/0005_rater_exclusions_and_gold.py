"""excluded raters or sessions, and gold items

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:30:00

An admin can leave a rater's votes (or one session's) out of every count: a row in
`rater_exclusions` (session_id '' for the whole rater), read by store/counted.py. Nothing
is deleted; removing the row counts the votes again. `gold_items` holds the right answer
of pairs served to every rater at `[pool] gold_rate`.
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rater_exclusions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rater_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['rater_id'], ['raters.id'], name=op.f('fk_rater_exclusions_rater_id_raters')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_rater_exclusions')),
        sa.UniqueConstraint('rater_id', 'session_id', name=op.f('uq_rater_exclusions_rater_id_session_id')),
    )
    op.create_table(
        'gold_items',
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('answer', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("answer IN ('left', 'right', 'tie', 'both_bad')", name=op.f('ck_gold_items_answer')),
        sa.ForeignKeyConstraint(['item_id'], ['rating_items.id'], name=op.f('fk_gold_items_item_id_rating_items')),
        sa.PrimaryKeyConstraint('item_id', name=op.f('pk_gold_items')),
    )


def downgrade() -> None:
    op.drop_table('gold_items')
    op.drop_table('rater_exclusions')
