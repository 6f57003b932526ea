"""posts: compressed bodies kept for a retention window, a text fingerprint

``posts.body_text`` (plain text, ≈ 1.2 KB a post) becomes ``posts.body``: the same text as
zlib-compressed UTF-8, NULL when empty or once ``POST_BODY_DAYS`` have passed since the post was
first seen (a partial index on ``first_seen_at`` finds the bodies still kept). ``fingerprint``
(64 bits of BLAKE2b over the normalized title and text, :func:`governance.matching.fingerprint`)
stays after the body has gone. Existing rows are converted in batches.

The downgrade restores ``body_text`` from the kept bodies; expired ones come back empty.

Revision ID: 0016_post_storage
Revises: 0015_draft_documents
Create Date: 2026-12-01 04:20:00
"""

import zlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from governance.matching import fingerprint

revision: str = '0016_post_storage'
down_revision: str | None = '0015_draft_documents'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000
KEPT = sa.text('body IS NOT NULL')

posts = sa.table(
    'posts',
    sa.column('id', sa.Integer),
    sa.column('title', sa.String),
    sa.column('body_text', sa.Text),
    sa.column('body', sa.LargeBinary),
    sa.column('fingerprint', sa.BigInteger),
)


def upgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('fingerprint', sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts.c.id, posts.c.title, posts.c.body_text)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            posts.update()
            .where(posts.c.id == sa.bindparam('b_id'))
            .values(body=sa.bindparam('b_body'), fingerprint=sa.bindparam('b_fp')),
            [
                {
                    'b_id': row.id,
                    'b_body': zlib.compress(row.body_text.encode(), 6) if row.body_text else None,
                    'b_fp': fingerprint(f'{row.title}\n{row.body_text or ""}'),
                }
                for row in rows
            ],
        )
        last = rows[-1].id
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('body_text')
        batch_op.create_index(
            'ix_posts_body_kept',
            ['first_seen_at'],
            unique=False,
            sqlite_where=KEPT,
            postgresql_where=KEPT,
        )


def downgrade() -> None:
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_body_kept', sqlite_where=KEPT, postgresql_where=KEPT)
        batch_op.add_column(sa.Column('body_text', sa.Text(), nullable=False, server_default=''))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts.c.id, posts.c.body)
            .where(posts.c.id > last, posts.c.body.is_not(None))
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            posts.update()
            .where(posts.c.id == sa.bindparam('b_id'))
            .values(body_text=sa.bindparam('b_text')),
            [{'b_id': row.id, 'b_text': zlib.decompress(row.body).decode()} for row in rows],
        )
        last = rows[-1].id
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_column('fingerprint')
        batch_op.drop_column('body')
