"""ledger: accounts may wait for an invited responsible person

An imported ledger names responsible people who may not have joined yet. Such an account
points at the invitation sent to them (``responsible_invitation_id``) until they accept it;
the invitation records whom it is for (``person_name``). A check keeps the national rule
that no account is without a named responsible person.

Revision ID: 0005_ledger (formerly 0005)
Revises: 0004_findings_and_links
Create Date: 2026-11-23 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005_ledger'
down_revision: str | None = '0004_findings_and_links'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('person_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('responsible_invitation_id', sa.Integer(), nullable=True))
        batch_op.alter_column('responsible_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f('fk_accounts_responsible_invitation_id_invitations'),
            'invitations',
            ['responsible_invitation_id'],
            ['id'],
        )
        batch_op.create_check_constraint(
            'responsible_named',
            'responsible_id IS NOT NULL OR responsible_invitation_id IS NOT NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint('responsible_named', type_='check')
        batch_op.drop_constraint(
            batch_op.f('fk_accounts_responsible_invitation_id_invitations'), type_='foreignkey'
        )
        batch_op.alter_column('responsible_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('responsible_invitation_id')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('person_name')
