"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 14:46:25.153142
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contenders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('backend', sa.String(length=50), nullable=False),
    sa.Column('model', sa.Text(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('text', 'image')", name=op.f('ck_contenders_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contenders')),
    sa.UniqueConstraint('name', name=op.f('uq_contenders_name'))
    )
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=50), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('progress', sa.Float(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('total_steps', sa.Integer(), nullable=True),
    sa.Column('eta_s', sa.Float(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('task_id', sa.String(length=100), nullable=True),
    sa.Column('active_key', sa.String(length=100), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name=op.f('ck_jobs_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs')),
    sa.UniqueConstraint('active_key', name=op.f('uq_jobs_active_key'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_kind_status', ['kind', 'status'], unique=False)

    op.create_table('prompts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('prompt_set', sa.String(length=200), nullable=False),
    sa.Column('system_prompt', sa.Text(), nullable=True),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prompts')),
    sa.UniqueConstraint('prompt_set', 'text_sha256', name=op.f('uq_prompts_prompt_set_text_sha256'))
    )
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prompts_prompt_set'), ['prompt_set'], unique=False)

    op.create_table('raters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('rater', 'admin')", name=op.f('ck_raters_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_raters')),
    sa.UniqueConstraint('name', name=op.f('uq_raters_name'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('generations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('prompt_id', sa.Integer(), nullable=False),
    sa.Column('contender_id', sa.Integer(), nullable=False),
    sa.Column('contender_revision', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('media_path', sa.String(length=500), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('text IS NOT NULL OR media_path IS NOT NULL', name=op.f('ck_generations_has_content')),
    sa.ForeignKeyConstraint(['contender_id'], ['contenders.id'], name=op.f('fk_generations_contender_id_contenders')),
    sa.ForeignKeyConstraint(['prompt_id'], ['prompts.id'], name=op.f('fk_generations_prompt_id_prompts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_generations')),
    sa.UniqueConstraint('prompt_id', 'contender_id', 'content_sha256', name=op.f('uq_generations_prompt_id_contender_id_content_sha256'))
    )
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_generations_contender_id'), ['contender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_generations_prompt_id'), ['prompt_id'], unique=False)

    op.create_table('rating_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('prompt_id', sa.Integer(), nullable=False),
    sa.Column('prompt_set', sa.String(length=200), nullable=False),
    sa.Column('generation_ids', sa.JSON(), nullable=False),
    sa.Column('votes_wanted', sa.Integer(), nullable=False),
    sa.Column('votes_received', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=50), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('pair', 'grid')", name=op.f('ck_rating_items_kind')),
    sa.ForeignKeyConstraint(['prompt_id'], ['prompts.id'], name=op.f('fk_rating_items_prompt_id_prompts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_items'))
    )
    with op.batch_alter_table('rating_items', schema=None) as batch_op:
        batch_op.create_index('ix_rating_items_open', ['prompt_set', 'votes_received'], unique=False)
        batch_op.create_index(batch_op.f('ix_rating_items_prompt_id'), ['prompt_id'], unique=False)

    op.create_table('reward_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('backbone', sa.Text(), nullable=False),
    sa.Column('checkpoint_path', sa.Text(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('data_max_comparison_id', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('text', 'image')", name=op.f('ck_reward_models_kind')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_reward_models_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward_models')),
    sa.UniqueConstraint('version', name=op.f('uq_reward_models_version'))
    )
    op.create_table('comparisons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('prompt_id', sa.Integer(), nullable=False),
    sa.Column('left_generation_id', sa.Integer(), nullable=False),
    sa.Column('right_generation_id', sa.Integer(), nullable=False),
    sa.Column('left_contender_id', sa.Integer(), nullable=False),
    sa.Column('right_contender_id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('rationale', sa.Text(), nullable=True),
    sa.Column('decision_ms', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('session_id', sa.String(length=100), nullable=True),
    sa.Column('group_id', sa.String(length=100), nullable=True),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('left', 'right', 'tie', 'both_bad')", name=op.f('ck_comparisons_outcome')),
    sa.CheckConstraint('left_generation_id <> right_generation_id', name=op.f('ck_comparisons_two_sides')),
    sa.ForeignKeyConstraint(['item_id'], ['rating_items.id'], name=op.f('fk_comparisons_item_id_rating_items')),
    sa.ForeignKeyConstraint(['left_contender_id'], ['contenders.id'], name=op.f('fk_comparisons_left_contender_id_contenders')),
    sa.ForeignKeyConstraint(['left_generation_id'], ['generations.id'], name=op.f('fk_comparisons_left_generation_id_generations')),
    sa.ForeignKeyConstraint(['prompt_id'], ['prompts.id'], name=op.f('fk_comparisons_prompt_id_prompts')),
    sa.ForeignKeyConstraint(['rater_id'], ['raters.id'], name=op.f('fk_comparisons_rater_id_raters')),
    sa.ForeignKeyConstraint(['right_contender_id'], ['contenders.id'], name=op.f('fk_comparisons_right_contender_id_contenders')),
    sa.ForeignKeyConstraint(['right_generation_id'], ['generations.id'], name=op.f('fk_comparisons_right_generation_id_generations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comparisons')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_comparisons_idempotency_key'))
    )
    with op.batch_alter_table('comparisons', schema=None) as batch_op:
        batch_op.create_index('ix_comparisons_contenders', ['left_contender_id', 'right_contender_id'], unique=False)
        batch_op.create_index('ix_comparisons_created_at', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparisons_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparisons_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparisons_prompt_id'), ['prompt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparisons_rater_id'), ['rater_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comparisons_source'), ['source'], unique=False)

    op.create_table('rating_assignments',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('rater_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['rating_items.id'], name=op.f('fk_rating_assignments_item_id_rating_items')),
    sa.ForeignKeyConstraint(['rater_id'], ['raters.id'], name=op.f('fk_rating_assignments_rater_id_raters')),
    sa.PrimaryKeyConstraint('item_id', 'rater_id', name=op.f('pk_rating_assignments'))
    )
    op.create_table('reward_predictions',
    sa.Column('comparison_id', sa.Integer(), nullable=False),
    sa.Column('reward_model_id', sa.Integer(), nullable=False),
    sa.Column('prob_left', sa.Float(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['comparison_id'], ['comparisons.id'], name=op.f('fk_reward_predictions_comparison_id_comparisons')),
    sa.ForeignKeyConstraint(['reward_model_id'], ['reward_models.id'], name=op.f('fk_reward_predictions_reward_model_id_reward_models')),
    sa.PrimaryKeyConstraint('comparison_id', 'reward_model_id', name=op.f('pk_reward_predictions'))
    )


def downgrade() -> None:
    op.drop_table('reward_predictions')
    op.drop_table('rating_assignments')
    with op.batch_alter_table('comparisons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comparisons_source'))
        batch_op.drop_index(batch_op.f('ix_comparisons_rater_id'))
        batch_op.drop_index(batch_op.f('ix_comparisons_prompt_id'))
        batch_op.drop_index(batch_op.f('ix_comparisons_item_id'))
        batch_op.drop_index(batch_op.f('ix_comparisons_group_id'))
        batch_op.drop_index('ix_comparisons_created_at')
        batch_op.drop_index('ix_comparisons_contenders')

    op.drop_table('comparisons')
    op.drop_table('reward_models')
    with op.batch_alter_table('rating_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rating_items_prompt_id'))
        batch_op.drop_index('ix_rating_items_open')

    op.drop_table('rating_items')
    with op.batch_alter_table('generations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_generations_prompt_id'))
        batch_op.drop_index(batch_op.f('ix_generations_contender_id'))

    op.drop_table('generations')
    op.drop_table('settings')
    op.drop_table('raters')
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prompts_prompt_set'))

    op.drop_table('prompts')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_kind_status')

    op.drop_table('jobs')
    op.drop_table('contenders')
