"""posts: long identities stored as a 96-bit digest (the unique key was the URL, stored twice)

Most feed items' identity is their link: 60-100 bytes kept once in ``posts.link``, again in
``posts.identity`` and a third time in the unique index on (account_id, identity). From this
revision ``posts.identity`` holds :func:`models.posts.stored_identity`: identities up to 24
characters as they are, longer ones as a short prefix, ``#`` and 16 base64 characters of their
BLAKE2b-96 digest. This migration rewrites the rows stored before it (in batches; run
``VACUUM`` / ``VACUUM FULL posts`` afterwards, docs/operations.md). Bodies are not rewritten:
the new body format (:mod:`models.postbody`) is written from now on, and the bodies stored in
the old one stay readable until they expire.

The downgrade restores every identity that was the post's link or a website column's
``c<column>:<link>`` (the digest of the candidate is compared); the others (long guids, the
``sha1:`` keys of undated items without a link) stay in their digest form, and the older code
stores those items once more the next time it sees them in a feed.

Revision ID: 0018_post_compact
Revises: 0017_history_sweep
Create Date: 2026-12-01 07:00:00
"""

import base64
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0018_post_compact'
down_revision: str | None = "0017_history_sweep"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
SHORT = 24

posts = sa.table(
    'posts',
    sa.column('id', sa.Integer),
    sa.column('identity', sa.String),
    sa.column('link', sa.String),
)


def stored_identity(identity: str) -> str:
    """Frozen copy of :func:`models.posts.stored_identity` as of this revision."""
    if len(identity) <= SHORT:
        return identity
    head, colon, _rest = identity.partition(':')
    prefix = head + colon if colon and len(head) <= 8 and head not in ('http', 'https') else ''
    digest = hashlib.blake2b(identity.encode(), digest_size=12).digest()
    return f'{prefix}#{base64.urlsafe_b64encode(digest).decode()}'


def _rewrite(select: sa.Select[Any], new: Callable[[sa.Row[Any]], str | None]) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(select.where(posts.c.id > last).order_by(posts.c.id).limit(BATCH)).all()
        if not rows:
            return
        changes = [
            {'b_id': row.id, 'b_identity': value}
            for row in rows
            if (value := new(row)) is not None and value != row.identity
        ]
        if changes:
            bind.execute(
                posts.update()
                .where(posts.c.id == sa.bindparam('b_id'))
                .values(identity=sa.bindparam('b_identity')),
                changes,
            )
        last = rows[-1].id


def upgrade() -> None:
    _rewrite(
        sa.select(posts.c.id, posts.c.identity, posts.c.link).where(
            sa.func.length(posts.c.identity) > SHORT
        ),
        lambda row: stored_identity(row.identity),
    )


def _original(row: sa.Row[Any]) -> str | None:
    if row.link is None:
        return None
    prefix = row.identity.split('#', 1)[0]
    candidate = prefix + row.link if prefix.startswith('c') else row.link
    return candidate if stored_identity(candidate) == row.identity else None


def downgrade() -> None:
    _rewrite(
        sa.select(posts.c.id, posts.c.identity, posts.c.link).where(
            posts.c.identity.contains('#'), sa.func.length(posts.c.identity) <= SHORT + 2
        ),
        _original,
    )
