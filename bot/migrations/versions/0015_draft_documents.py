"""draft documents: the text read from a draft's .docx/.pdf, by place

``review_parts`` gain a nullable JSON ``extracted``: for a document part, how far it could be
read (text, no text layer, not converted), its pages and its text segments with their places
(paragraph, table cell, header, footnote, page ...), so the pre-check, the card, the printable
form and a resubmission's diff all read the same text without downloading the file again.

Revision ID: 0015_draft_documents
Revises: 0014_repost_tasks
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_draft_documents'
down_revision: str | None = '0014_repost_tasks'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('review_parts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extracted', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('review_parts', schema=None) as batch_op:
        batch_op.drop_column('extracted')
