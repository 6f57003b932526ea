"""list indexes: one live account per platform id, keyset pages

A partial unique index ``uq_accounts_live_platform_ref`` on accounts (platform,
platform_ref_norm) over the live statuses (pending, active, rectifying, suspended) makes the
database refuse a second live registration of one platform id, so two registrations racing past
the check in code cannot both be filed. Databases that already hold such a pair stop here with
the pairs listed (close or correct one of each first). Composite indexes serve the chat's keyset
pages: accounts by unit, cases by deadline, and a unit's children (the unit tree).

Revision ID: 0013_list_indexes
Revises: 0012_websites
Create Date: 2026-12-01 03:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013_list_indexes'
down_revision: str | None = '0012_websites'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = "status IN ('active', 'pending', 'rectifying', 'suspended')"


def upgrade() -> None:
    clashes = op.get_bind().execute(
        sa.text(
            "SELECT platform, platform_ref_norm, COUNT(*) FROM accounts WHERE "
            + LIVE
            + " GROUP BY platform, platform_ref_norm HAVING COUNT(*) > 1"
        )
    ).all()
    if clashes:
        listed = "; ".join(f"{p} {ref} ×{n}" for p, ref, n in clashes)
        raise RuntimeError(
            "accounts: the same platform id is registered more than once while live; close or "
            f"correct all but one of each before upgrading: {listed}"
        )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(
            'uq_accounts_live_platform_ref',
            ['platform', 'platform_ref_norm'],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )
        batch_op.create_index('ix_accounts_unit_id_id', ['unit_id', 'id'], unique=False)
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index('ix_units_parent_id', ['parent_id'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_deadline_id', ['deadline', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_deadline_id')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index('ix_units_parent_id')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_accounts_unit_id_id')
        batch_op.drop_index('uq_accounts_live_platform_ref')
