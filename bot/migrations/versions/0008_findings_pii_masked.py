"""findings: personal data stored only masked

Post findings of category ``pii`` used to keep the clear number in ``text`` (and in
``account_key``) with its mask in ``suggestion``; draft findings already kept only the mask.
Every finding now stores the mask in ``text`` and no suggestion, and ``account_key`` is built
from the mask, so one display rule holds. The mask is the product's own
(:func:`governance.quality.pii.mask_number`); a stored mask in ``suggestion`` is taken as it is.

The clear values are gone after the upgrade: the downgrade leaves the rows masked.

Revision ID: 0008_findings_pii_masked
Revises: 0007_cases
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.quality.pii import mask_number

revision: str = '0008_findings_pii_masked'
down_revision: str | None = '0007_cases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_MAX = 200
KEY_MAX = 260

findings = sa.table(
    'findings',
    sa.column('id', sa.Integer),
    sa.column('account_id', sa.Integer),
    sa.column('category', sa.String),
    sa.column('rule', sa.String),
    sa.column('text', sa.String),
    sa.column('suggestion', sa.String),
    sa.column('account_key', sa.String),
)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            findings.c.id,
            findings.c.account_id,
            findings.c.rule,
            findings.c.text,
            findings.c.suggestion,
        ).where(findings.c.category == 'pii')
    ).all()
    for row in rows:
        masked = (row.suggestion or mask_number(row.text, row.rule))[:TEXT_MAX]
        bind.execute(
            findings.update()
            .where(findings.c.id == row.id)
            .values(
                text=masked,
                suggestion=None,
                account_key=f'{row.account_id}:pii:{masked}'[:KEY_MAX],
            )
        )


def downgrade() -> None:
    # The clear values are not kept anywhere: the rows stay masked.
    pass
