"""repost tasks (转载任务): a task per article, one target row per assigned account

A target records how its account's repost was recognised (link, text, title, headline, by
hand), the post and the time; posts an admin excluded are kept so they never match again.

Revision ID: 0014_repost_tasks
Revises: 0013_list_indexes
Create Date: 2026-12-01 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.base

revision: str = '0014_repost_tasks'
down_revision: str | None = '0013_list_indexes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('repost_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('source_link', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
    sa.Column('link_key', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('headline_counts', sa.Boolean(), nullable=False),
    sa.Column('deadline', models.base.UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.JSON(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('reminded', sa.JSON(), nullable=False),
    sa.Column('submission_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_repost_tasks_created_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_repost_tasks_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repost_tasks')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_repost_tasks_submission_key'))
    )
    with op.batch_alter_table('repost_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repost_tasks_status'), ['status'], unique=False)

    op.create_table('repost_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('link', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
    sa.Column('published_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('matched_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('confirmed_by', sa.Integer(), nullable=True),
    sa.Column('excluded_posts', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_repost_targets_account_id_accounts')),
    sa.ForeignKeyConstraint(['confirmed_by'], ['users.id'], name=op.f('fk_repost_targets_confirmed_by_users')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_repost_targets_post_id_posts')),
    sa.ForeignKeyConstraint(['task_id'], ['repost_tasks.id'], name=op.f('fk_repost_targets_task_id_repost_tasks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repost_targets')),
    sa.UniqueConstraint('task_id', 'account_id', name='uq_repost_targets_task_account')
    )
    with op.batch_alter_table('repost_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repost_targets_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_repost_targets_task_id'), ['task_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('repost_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repost_targets_task_id'))
        batch_op.drop_index(batch_op.f('ix_repost_targets_account_id'))

    op.drop_table('repost_targets')
    with op.batch_alter_table('repost_tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repost_tasks_status'))

    op.drop_table('repost_tasks')
