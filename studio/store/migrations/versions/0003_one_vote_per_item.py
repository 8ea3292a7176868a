"""one vote per rater per item: superseded duplicates, ranking parts, a unique partial index

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00

Before this revision a rater could vote on the same item more than once (two tabs, a
reload, an API client sending new keys). Nothing is deleted: per (item, rater) the first
vote is kept and every later one is marked `superseded_by` that vote's id, so the readers
leave it out (store/counted.py) while the row stays for an audit. A grid's ranking is
several comparisons sharing a group id: `vote_part` numbers them (0 for the first), so the
unique index on (item_id, rater_id) over part-0 rows allows one ranking per rater per grid.
Items' `votes_received` drop by the superseded votes, so an item that was "full" only
because one rater voted twice is offered to other raters again.
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ITEM_VOTE = sa.text("item_id IS NOT NULL AND superseded_by IS NULL AND vote_part = 0")
BATCH = 5000


def upgrade() -> None:
    op.add_column('comparisons', sa.Column('vote_part', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('comparisons', sa.Column('superseded_by', sa.Integer(), nullable=True))
    parts, superseded, recount = _plan(op.get_bind())
    comparisons = sa.table('comparisons', sa.column('id'), sa.column('vote_part'), sa.column('superseded_by'))
    items = sa.table('rating_items', sa.column('id'), sa.column('votes_received'))
    _update(comparisons.update().where(comparisons.c.id == sa.bindparam('row_id'))
            .values(vote_part=sa.bindparam('part')), [{'row_id': i, 'part': p} for i, p in parts.items()])
    _update(comparisons.update().where(comparisons.c.id == sa.bindparam('row_id'))
            .values(superseded_by=sa.bindparam('kept')), [{'row_id': i, 'kept': k} for i, k in superseded.items()])
    _update(items.update().where(items.c.id == sa.bindparam('item'))
            .values(votes_received=items.c.votes_received - sa.bindparam('extra')),
            [{'item': i, 'extra': n} for i, n in recount.items()])
    op.create_index('ix_comparisons_one_vote_per_item', 'comparisons', ['item_id', 'rater_id'], unique=True,
                    sqlite_where=ITEM_VOTE, postgresql_where=ITEM_VOTE)


def downgrade() -> None:
    op.drop_index('ix_comparisons_one_vote_per_item', table_name='comparisons')
    with op.batch_alter_table('comparisons') as batch:
        batch.drop_column('superseded_by')
        batch.drop_column('vote_part')


def _plan(connection) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """(vote_part of the rows past a ranking's first, superseded row -> kept vote id, item
    -> votes to take off its count), from every vote on an item, oldest first."""
    rows = connection.execute(sa.text(
        "SELECT c.id, c.item_id, c.rater_id, c.group_id, i.kind FROM comparisons c "
        "JOIN rating_items i ON i.id = c.item_id ORDER BY c.id")).all()
    votes: dict[tuple, list[int]] = defaultdict(list)       # one vote (a pair's row, a ranking) -> its rows
    for row_id, item_id, rater_id, group_id, kind in rows:
        ranking = kind == 'grid' and group_id is not None
        votes[(item_id, rater_id, group_id if ranking else row_id)].append(row_id)
    by_rater_item: dict[tuple[int, int], list[list[int]]] = defaultdict(list)
    parts: dict[int, int] = {}
    for (item_id, rater_id, _), ids in votes.items():     # in order of each vote's first row
        by_rater_item[(item_id, rater_id)].append(ids)
        parts.update({row_id: part for part, row_id in enumerate(ids) if part})
    superseded: dict[int, int] = {}
    recount: dict[int, int] = defaultdict(int)
    for (item_id, _), cast in by_rater_item.items():
        kept = cast[0][0]
        for later in cast[1:]:
            superseded.update(dict.fromkeys(later, kept))
            recount[item_id] += 1
    return parts, superseded, dict(recount)


def _update(statement, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        op.get_bind().execute(statement, rows[start:start + BATCH])
