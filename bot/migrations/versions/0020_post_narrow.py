"""posts: dates as 32-bit seconds since 2000, title and author as GB18030 bytes

A post is mostly its fixed columns once the body has gone, and most of a year's posts have no
body (the 90-day window), so the row is what the storage budget is spent on:

- ``published_at`` and ``first_seen_at`` become whole seconds since 2000-01-01 UTC in a 32-bit
  integer (:class:`models.base.UTCSeconds`): 4 bytes, where SQLite stored 26 characters of text
  and PostgreSQL 8 bytes, in the row and again in ``ix_posts_account_published`` and
  ``ix_posts_body_kept``. Sub-seconds are dropped; dates outside 1931..2068 are clamped.
- ``title`` and ``author`` become GB18030 bytes (:class:`models.base.GB18030Text`): two bytes a
  Chinese character where UTF-8 takes three; every character survives.
- PostgreSQL: the append-only indexes (the primary key, ``ix_posts_body_kept``) are packed full
  (fillfactor 100) as the rewrite rebuilds them.

Both backends rewrite the table (SQLite: in place, then a batch copy; PostgreSQL: one
``ALTER TABLE``, holding an exclusive lock on ``posts`` while it runs: minutes for millions of
rows). Run ``VACUUM`` (SQLite) / ``VACUUM ANALYZE posts`` (PostgreSQL) afterwards,
docs/operations.md. The downgrade restores text and timestamps (sub-seconds stay dropped).

Revision ID: 0020_post_narrow
Revises: 0019_post_checks
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0020_post_narrow"
down_revision: str | None = "0019_post_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
EPOCH = 946684800  # 2000-01-01T00:00:00Z in Unix seconds
LOW, HIGH = -(2**31), 2**31 - 1
DATES = ("published_at", "first_seen_at")
TEXTS = ("title", "author")
PACKED = ("pk_posts", "ix_posts_body_kept")


def _recode(convert: Callable[[Any], Any], kind: type[sa.types.TypeEngine[Any]]) -> None:
    """SQLite: rewrite title and author in place (as ``kind``), batch by batch in id order."""
    posts = sa.table("posts", sa.column("id"), sa.column("title"), sa.column("author"))
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts.c.id, posts.c.title, posts.c.author)
            .where(posts.c.id > last)
            .order_by(posts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        bind.execute(
            posts.update()
            .where(posts.c.id == sa.bindparam("b_id"))
            .values(
                title=sa.bindparam("b_title", type_=kind()),
                author=sa.bindparam("b_author", type_=kind()),
            ),
            [
                {"b_id": row.id, "b_title": convert(row.title), "b_author": convert(row.author)}
                for row in rows
            ],
        )
        last = rows[-1].id


def _to_gb18030(value: Any) -> bytes | None:
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    return text.encode("gb18030", errors="replace")


def _from_gb18030(value: Any) -> str | None:
    if value is None:
        return None
    return bytes(value).decode("gb18030", errors="replace") if isinstance(value, bytes) else value


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index in PACKED:
            op.execute(f"ALTER INDEX {index} SET (fillfactor = 100)")
        # extract(epoch) of the timestamp itself, not of a difference: ±infinity then clamps.
        seconds = (
            f"greatest(least(floor(extract(epoch from {{c}}) - {EPOCH}), {HIGH}), {LOW})::integer"
        )
        op.execute(
            "ALTER TABLE posts "
            + ", ".join(
                [f"ALTER COLUMN {c} TYPE integer USING {seconds.format(c=c)}" for c in DATES]
                + [f"ALTER COLUMN {c} TYPE bytea USING convert_to({c}, 'GB18030')" for c in TEXTS]
            )
        )
        return
    # SQLite: the new values first (the old declared types take integers and blobs as they
    # are), then the batch copy declares the new types; its CASTs leave these values alone.
    seconds = f"max(min(CAST(strftime('%s', {{c}}) AS INTEGER) - {EPOCH}, {HIGH}), {LOW})"
    op.execute("UPDATE posts SET " + ", ".join(f"{c} = {seconds.format(c=c)}" for c in DATES))
    _recode(_to_gb18030, sa.LargeBinary)
    with op.batch_alter_table("posts") as batch_op:
        for c in DATES:
            batch_op.alter_column(c, existing_type=sa.DateTime(), type_=sa.Integer())
        batch_op.alter_column(
            "title", existing_type=sa.String(1000), type_=sa.LargeBinary(), existing_nullable=False
        )
        batch_op.alter_column(
            "author", existing_type=sa.String(200), type_=sa.LargeBinary(), existing_nullable=True
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE posts "
            + ", ".join(
                [
                    f"ALTER COLUMN {c} TYPE timestamp without time zone"
                    f" USING timestamp '2000-01-01' + {c} * interval '1 second'"
                    for c in DATES
                ]
                + [
                    f"ALTER COLUMN {c} TYPE varchar({n}) USING convert_from({c}, 'GB18030')"
                    for c, n in zip(TEXTS, (1000, 200), strict=True)
                ]
            )
        )
        for index in PACKED:
            op.execute(f"ALTER INDEX {index} RESET (fillfactor)")
        return
    # SQLite, in the reverse order: text while the column still takes it as it is, the batch
    # copy (a CAST to DATETIME keeps integers), then the timestamps as SQLAlchemy writes them.
    _recode(_from_gb18030, sa.String)
    with op.batch_alter_table("posts") as batch_op:
        for c in DATES:
            batch_op.alter_column(c, existing_type=sa.Integer(), type_=sa.DateTime())
        batch_op.alter_column(
            "title", existing_type=sa.LargeBinary(), type_=sa.String(1000), existing_nullable=False
        )
        batch_op.alter_column(
            "author", existing_type=sa.LargeBinary(), type_=sa.String(200), existing_nullable=True
        )
    op.execute(
        "UPDATE posts SET "
        + ", ".join(
            f"{c} = strftime('%Y-%m-%d %H:%M:%f000', {c} + {EPOCH}, 'unixepoch')" for c in DATES
        )
    )
