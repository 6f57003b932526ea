"""Posts stored but not yet through the new-post hooks (``unchecked_posts``).

The poller and the column watcher commit new posts first and run the hooks (content checks,
review and repost matching) afterwards, each account in a short transaction of its own, so the
chat is never kept waiting behind the checks. A process killed between the two commits would
leave posts nobody ever checks, and a veto word in them would never alert. So each new post gets
a row here in the transaction that stores it, the hooks' transaction deletes it, and a later
tick re-runs the hooks on rows left behind (:func:`jobs.postchecks.recheck_unchecked`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import EnumString, UTCDateTime
from models.posts import Post


class PostSource(StrEnum):
    """Which job stored the post, so that job re-runs its own hooks on it."""

    FEED = "feed"
    COLUMN = "column"


class UncheckedPost(SQLModel, table=True):
    __tablename__ = "unchecked_posts"
    __table_args__ = (sa.Index("ix_unchecked_posts_source_stored_at", "source", "stored_at"),)

    post_id: int = Field(primary_key=True)
    """No foreign key: a post deleted meanwhile leaves a row that
    :func:`claim_left_behind` reports as gone."""
    account_id: int
    source: PostSource = Field(sa_type=EnumString(PostSource, 10))
    stored_at: datetime = Field(sa_type=UTCDateTime())


async def mark(
    session: AsyncSession,
    *,
    posts: Sequence[tuple[int, int]],
    source: PostSource,
    now: datetime,
) -> None:
    """Record (account, post) pairs as awaiting their hooks, in the storing transaction."""
    if not posts:
        return
    table = UncheckedPost.__table__  # type: ignore[attr-defined]
    await session.exec(
        sa.insert(table),
        params=[
            {"post_id": pid, "account_id": aid, "source": source, "stored_at": now}
            for aid, pid in posts
        ],
    )


async def clear(session: AsyncSession, *, post_ids: Sequence[int]) -> None:
    """The hooks ran on these posts: in the hooks' own transaction."""
    if post_ids:
        await session.exec(
            delete(UncheckedPost).where(col(UncheckedPost.post_id).in_(list(post_ids)))
        )


async def claim_left_behind(
    session: AsyncSession, *, source: PostSource, before: datetime, now: datetime, limit: int
) -> list[tuple[UncheckedPost, Post | None]]:
    """Take posts stored before ``before`` whose hooks never committed, oldest first, by moving
    their ``stored_at`` to ``now``: a guarded update, so of two replicas recovering at once each
    row goes to one, and a process stopped again mid-recovery leaves them to a later tick.
    ``None`` for a post deleted since."""
    candidates = (
        await session.exec(
            select(UncheckedPost.post_id)
            .where(UncheckedPost.source == source, col(UncheckedPost.stored_at) < before)
            .order_by(col(UncheckedPost.stored_at), col(UncheckedPost.post_id))
            .limit(limit)
        )
    ).all()
    if not candidates:
        return []
    table = UncheckedPost.__table__  # type: ignore[attr-defined]
    taken = (
        await session.exec(
            sa.update(table)
            .where(table.c.post_id.in_(list(candidates)), table.c.stored_at < before)
            .values(stored_at=now)
            .returning(table.c.post_id)
        )
    ).all()
    if not taken:
        return []
    rows = await session.exec(
        select(UncheckedPost, Post)
        .outerjoin(Post, col(Post.id) == col(UncheckedPost.post_id))
        .where(col(UncheckedPost.post_id).in_([int(t[0]) for t in taken]))
        .order_by(col(UncheckedPost.post_id))
    )
    return list(rows.all())
