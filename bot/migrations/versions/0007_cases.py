"""cases: rectification cases (整改) with deadlines and escalation

One row per case. ``active_key`` ("account:kind") is set while the case is active and cleared
when it ends, so its unique constraint keeps one active case per account and problem on
SQLite and PostgreSQL alike.

Revision ID: 0007_cases (formerly 0008)
Revises: 0006_review
Create Date: 2026-11-23 15:56:19.006627
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base


revision: str = '0007_cases'
down_revision: str | None = '0006_review'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('active_key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('responsible_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('deadline', models.base.UTCDateTime(), nullable=False),
    sa.Column('opened_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('opened_by', sa.Integer(), nullable=True),
    sa.Column('explanation', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('explained_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('overdue_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('interview_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('interviewed_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('interviewed_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('closed_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('notice_url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
    sa.Column('updated_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_cases_account_id_accounts')),
    sa.ForeignKeyConstraint(['interviewed_by'], ['users.id'], name=op.f('fk_cases_interviewed_by_users')),
    sa.ForeignKeyConstraint(['opened_by'], ['users.id'], name=op.f('fk_cases_opened_by_users')),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_cases_responsible_id_users')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_cases_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('active_key', name=op.f('uq_cases_active_key'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_resolved_at'), ['resolved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_unit_id'))
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.drop_index(batch_op.f('ix_cases_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_cases_opened_at'))
        batch_op.drop_index(batch_op.f('ix_cases_account_id'))

    op.drop_table('cases')
