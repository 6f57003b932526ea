"""websites: government websites, their watched pages and the daily probe tally

A website is an account of platform ``website`` plus a ``websites`` row (home page probe state,
last verdict); ``website_columns`` are its watched pages with their poll state; ``probe_days``
counts visits and failures per local day.

Revision ID: 0012_websites
Revises: 0011_robot_channels
Create Date: 2026-12-01 03:27:39.641561
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import models.base

revision: str = '0012_websites'
down_revision: str | None = '0011_robot_channels'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('probe_days',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('total_ms', sa.Integer(), nullable=False),
    sa.Column('max_ms', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_probe_days_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'day', name=op.f('pk_probe_days'))
    )
    op.create_table('website_columns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('selector', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('first_level', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('etag', sqlmodel.sql.sqltypes.AutoString(length=512), nullable=True),
    sa.Column('last_modified', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('next_poll_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('last_poll_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('first_success_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('last_success_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('last_outcome', sa.String(length=32), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('claimed_until', models.base.UTCDateTime(), nullable=True),
    sa.Column('claim_token', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('last_update', models.base.UTCDateTime(), nullable=True),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('portal', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_website_columns_account_id_accounts')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_website_columns_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_website_columns')),
    sa.UniqueConstraint('account_id', 'url', name='uq_website_columns_url')
    )
    with op.batch_alter_table('website_columns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_website_columns_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_website_columns_claim_token'), ['claim_token'], unique=False)
        batch_op.create_index(batch_op.f('ix_website_columns_next_poll_at'), ['next_poll_at'], unique=False)

    op.create_table('websites',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('home_url', sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('next_probe_at', models.base.UTCDateTime(), nullable=False),
    sa.Column('last_probe_at', models.base.UTCDateTime(), nullable=True),
    sa.Column('last_probe_ok', sa.Boolean(), nullable=True),
    sa.Column('last_probe_ms', sa.Integer(), nullable=True),
    sa.Column('last_probe_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('probe_failures', sa.Integer(), nullable=False),
    sa.Column('down_since', models.base.UTCDateTime(), nullable=True),
    sa.Column('vetoes', sa.JSON(), nullable=False),
    sa.Column('vetoes_since', models.base.UTCDateTime(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('points', sa.Integer(), nullable=True),
    sa.Column('evaluated_at', models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_websites_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_websites'))
    )
    with op.batch_alter_table('websites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_websites_next_probe_at'), ['next_probe_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('websites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_websites_next_probe_at'))

    op.drop_table('websites')
    with op.batch_alter_table('website_columns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_website_columns_next_poll_at'))
        batch_op.drop_index(batch_op.f('ix_website_columns_claim_token'))
        batch_op.drop_index(batch_op.f('ix_website_columns_account_id'))

    op.drop_table('website_columns')
    op.drop_table('probe_days')
