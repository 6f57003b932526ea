"""post checks: new posts awaiting their hooks (``unchecked_posts``)

A row per post stored and not yet through the new-post hooks (content checks, review and repost
matching), written with the post and deleted by the hooks' own transaction; rows older than a
few minutes were left by a process that stopped in between, and a later tick re-runs the hooks.

Revision ID: 0019_post_checks
Revises: 0018_post_compact
Create Date: 2026-12-01 08:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_post_checks"
down_revision: str | None = "0018_post_compact"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unchecked_posts",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_unchecked_posts")),
    )
    op.create_index(
        "ix_unchecked_posts_source_stored_at",
        "unchecked_posts",
        ["source", "stored_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_unchecked_posts_source_stored_at", table_name="unchecked_posts")
    op.drop_table("unchecked_posts")
