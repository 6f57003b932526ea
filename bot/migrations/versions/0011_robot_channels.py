"""robot channels: WeCom / DingTalk / Feishu group robots as alert channels

A ``robot_channels`` table (per unit, or the office's own with ``unit_id`` NULL); outbox rows
gain a nullable ``channel_id`` (a robot row instead of a Telegram chat) and ``mention_user_id``
(whom to @-mention, resolved when sending); people gain an optional ``mobile``.

Revision ID: 0011_robot_channels
Revises: 0010_replicas
Create Date: 2026-12-01 02:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.base

revision: str = '0011_robot_channels'
down_revision: str | None = '0010_replicas'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('robot_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('webhook', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_robot_channels_created_by_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_robot_channels_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_robot_channels'))
    )
    with op.batch_alter_table('robot_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_robot_channels_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('mention_user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_channel_id'), ['channel_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_channel_id_robot_channels'), 'robot_channels', ['channel_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_outbox_mention_user_id_users'), 'users', ['mention_user_id'], ['id'])
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mobile', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mobile')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_mention_user_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_outbox_channel_id_robot_channels'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_channel_id'))
        batch_op.drop_column('mention_user_id')
        batch_op.drop_column('channel_id')
    with op.batch_alter_table('robot_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_robot_channels_unit_id'))
    op.drop_table('robot_channels')
