"""history sweep: the progress of re-checking stored posts after a word-list change

One row (``history_sweeps``): the word lists the sweep brings stored posts to (and the union and
intersection of the lists posts may reflect), the keyset cursor over post ids, counters for
/words, and the lease of the replica walking. Findings gain no column: a finding the new lists
no longer report gets the status ``withdrawn`` (a plain VARCHAR(10) value).

Revision ID: 0017_history_sweep
Revises: 0016_post_storage
Create Date: 2026-12-01 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_history_sweep"
down_revision: str | None = "0016_post_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_sweeps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("target_digest", sa.String(length=32), nullable=False),
        sa.Column("union_items", sa.Text(), nullable=False),
        sa.Column("inter_items", sa.Text(), nullable=False),
        sa.Column("findings_only", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("rechecked", sa.Integer(), nullable=False),
        sa.Column("found", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("holder", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_sweeps")),
    )


def downgrade() -> None:
    op.drop_table("history_sweeps")
