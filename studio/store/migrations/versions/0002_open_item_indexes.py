"""partial indexes for the arena's pick: open items (in any set, in one set), and each rater's open item

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 20:50:00

Without them, picking a rater's next item scanned every item already voted on (most of the
table in a long-running studio), so a click got slower as the votes accumulated.
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

WANTING = sa.text("votes_received < votes_wanted")
OPEN = sa.text("completed_at IS NULL")


def upgrade() -> None:
    op.create_index('ix_rating_items_wanting', 'rating_items', ['id'], unique=False,
                    sqlite_where=WANTING, postgresql_where=WANTING)
    op.create_index('ix_rating_items_wanting_in_set', 'rating_items', ['prompt_set', 'id'], unique=False,
                    sqlite_where=WANTING, postgresql_where=WANTING)
    op.create_index('ix_rating_assignments_open', 'rating_assignments', ['rater_id'], unique=False,
                    sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index('ix_rating_assignments_open', table_name='rating_assignments')
    op.drop_index('ix_rating_items_wanting_in_set', table_name='rating_items')
    op.drop_index('ix_rating_items_wanting', table_name='rating_items')
