"""Links found in posts, and the cached result of checking whether they still resolve.

Links are recorded when a post is stored (from its HTML, with their place in the post's
readable text); the dead-link job checks each distinct URL at most once per TTL, however many
posts carry it, and a link found dead becomes a ``dead_link`` finding on every such post.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import EnumString, UTCDateTime, dialect_insert
from models.posts import Post

URL_MAX = 2048


class LinkState(StrEnum):
    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"  # timed out, refused by the guard, or blocked: not evidence either way


class PostLink(SQLModel, table=True):
    __tablename__ = "post_links"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="posts.id", index=True)
    account_id: int = Field(foreign_key="accounts.id")
    url_hash: str = Field(max_length=40, index=True)
    url: str = Field(max_length=URL_MAX)
    text: str = Field(default="", max_length=200)
    start: int = 0
    end: int = 0

    __table_args__ = (sa.UniqueConstraint("post_id", "url_hash", name="uq_post_links_post_url"),)


class LinkCheck(SQLModel, table=True):
    __tablename__ = "link_checks"

    url_hash: str = Field(primary_key=True, max_length=40)
    url: str = Field(max_length=URL_MAX)
    state: LinkState = Field(sa_type=EnumString(LinkState, 8))
    http_status: int | None = None
    failures: int = 0
    checked_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    error: str | None = Field(default=None, max_length=300)


def url_hash(url: str) -> str:
    return hashlib.sha1(url.encode("utf-8", "surrogatepass")).hexdigest()


async def record_links(
    session: AsyncSession,
    *,
    post_id: int,
    account_id: int,
    links: Sequence[tuple[str, str, int, int]],
) -> None:
    """Store a post's (url, text, start, end) links once."""
    rows = [
        {
            "post_id": post_id,
            "account_id": account_id,
            "url_hash": url_hash(url),
            "url": url[:URL_MAX],
            "text": text[:200],
            "start": start,
            "end": end,
        }
        for url, text, start, end in links
        if url.startswith(("http://", "https://")) and len(url) <= URL_MAX
    ]
    if rows:
        stmt = dialect_insert(session)(PostLink).on_conflict_do_nothing(
            index_elements=["post_id", "url_hash"]
        )
        await session.exec(stmt, params=rows)


async def due_urls(
    session: AsyncSession,
    *,
    now: datetime,
    window: timedelta,
    alive_ttl: timedelta,
    retry_ttl: timedelta,
    limit: int,
) -> list[tuple[str, str, int]]:
    """(hash, url, failures) of links in recent posts that are unchecked or due again."""
    recent = (
        select(PostLink.url_hash, sa.func.min(PostLink.url).label("url"))
        .join(Post, col(Post.id) == PostLink.post_id)
        .where(Post.first_seen_at >= now - window)
        .group_by(PostLink.url_hash)
        .subquery()
    )
    stmt = (
        select(recent.c.url_hash, recent.c.url, sa.func.coalesce(LinkCheck.failures, 0))
        .outerjoin(LinkCheck, col(LinkCheck.url_hash) == recent.c.url_hash)
        .where(
            sa.or_(
                col(LinkCheck.url_hash).is_(None),
                sa.and_(
                    col(LinkCheck.state) == LinkState.ALIVE,
                    col(LinkCheck.checked_at) < now - alive_ttl,
                ),
                sa.and_(
                    col(LinkCheck.state) != LinkState.ALIVE,
                    col(LinkCheck.checked_at) < now - retry_ttl,
                ),
            )
        )
        .order_by(col(LinkCheck.checked_at).is_(None).desc(), col(LinkCheck.checked_at))
        .limit(limit)
    )
    return [(h, u, int(f)) for h, u, f in await session.exec(stmt)]


async def save_check(
    session: AsyncSession,
    *,
    url: str,
    state: LinkState,
    http_status: int | None,
    failures: int,
    error: str | None,
    now: datetime,
) -> None:
    values = {
        "url_hash": url_hash(url),
        "url": url[:URL_MAX],
        "state": state,
        "http_status": http_status,
        "failures": failures,
        "checked_at": now,
        "error": (error or "")[:300] or None,
    }
    stmt = dialect_insert(session)(LinkCheck).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["url_hash"], set_={k: v for k, v in values.items() if k != "url_hash"}
    )
    await session.exec(stmt)


async def posts_with(session: AsyncSession, *, url_hash_value: str) -> list[PostLink]:
    rows = await session.exec(select(PostLink).where(PostLink.url_hash == url_hash_value))
    return list(rows)
