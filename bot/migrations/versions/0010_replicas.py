"""replicas: scheduled-job occurrences, handled updates, shared send pacing

``job_runs`` keeps one row per occurrence of a scheduled singleton (job id + scheduled time)
with the lease of the replica running it; ``handled_updates`` the ids of Telegram updates
already handled; ``send_pace`` the outbox's shared pacing on PostgreSQL.

Revision ID: 0010_replicas
Revises: 0009_webhook_inbox
Create Date: 2026-12-01 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.base


revision: str = '0010_replicas'
down_revision: str | None = '0009_webhook_inbox'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('scheduled_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('replica', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('started_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('lease_until', models.base.UTCDateTime(), nullable=False),
    sa.Column('finished_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.PrimaryKeyConstraint('job_id', 'scheduled_at')
    )
    op.create_table('handled_updates',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('replica', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('handled_at', models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('handled_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handled_updates_handled_at'), ['handled_at'], unique=False)
    op.create_table('send_pace',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('tat', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('send_pace')
    with op.batch_alter_table('handled_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handled_updates_handled_at'))
    op.drop_table('handled_updates')
    op.drop_table('job_runs')
