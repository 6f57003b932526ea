"""Posts seen in an account's feed: stored once per account and item identity.

Storage is budgeted (≈ 0.2-0.3 KB a post once its body has gone, ≈ 0.45-0.5 KB averaged over
a year at the default 90-day window, docs/benchmarks.md "Bytes per post at the 90-day default"):
dates are 32-bit seconds (:class:`models.base.UTCSeconds`), title and author GB18030 bytes
(:class:`models.base.GB18030Text`: never filtered in SQL), and what
findings, reports and review matching need is kept for good (title, link, dates, a fingerprint
of the text; findings live in their own table), while the visible text is stored compressed
(:mod:`models.postbody`) and only for ``POST_BODY_DAYS`` after the post was first seen
(:func:`expire_bodies`; 0 keeps none). Everything that reads a post's text reads
``Post.body_text``, which is ``""`` once the body has gone. The checks and the review matching
run on the parsed item when the post is stored, so they never depend on a kept body.

``posts.identity`` holds :func:`stored_identity`: a feed's identity as it is when short, else a
96-bit digest of it (most guids are the article's URL, already stored once in ``link``; as the
key of the unique index it was stored twice more). :func:`known_pairs` and :func:`insert_many`
take and return the feeds' own identities and do the mapping, so callers never see it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.matching import fingerprint
from models.base import GB18030Text, UTCSeconds, dialect_insert
from models.postbody import compress_body, expand_body

__all__ = ["NewPost", "Post", "compress_body", "expand_body", "stored_identity"]

#: Identities up to this length are stored as they are (website snapshots ``h<id>:<day>``,
#: short guids); longer ones as :func:`stored_identity`'s digest form (at most 26 characters).
SHORT_IDENTITY = 24

#: ``posts.body`` is kept only within the retention window; the partial index finds what expires.
_BODY_KEPT = sa.text("body IS NOT NULL")


class Post(SQLModel, table=True):
    __tablename__ = "posts"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id")
    identity: str = Field(max_length=512)
    title: str = Field(default="", sa_type=GB18030Text())
    """GB18030 bytes in the database (two bytes a Chinese character): never filtered in SQL."""
    link: str | None = Field(default=None, max_length=2048)
    author: str | None = Field(default=None, sa_type=GB18030Text())
    published_at: datetime = Field(sa_type=UTCSeconds())
    """The item's own date, clamped to ``first_seen_at``; ``first_seen_at`` when undated."""
    dated: bool = True
    body: bytes | None = Field(default=None, sa_type=sa.LargeBinary())
    """The visible text compressed (:mod:`models.postbody`: a format byte, then the text);
    ``None`` when empty or expired. Read it through :attr:`body_text`, never by hand."""
    fingerprint: int | None = Field(default=None, sa_type=sa.BigInteger())
    """:func:`governance.matching.fingerprint` of title and text; kept after the body expires."""
    first_seen_at: datetime = Field(sa_type=UTCSeconds())
    counts_as_activity: bool = True
    """False for re-surfaced old items (see governance.activity.counts_as_activity)."""

    __table_args__ = (
        sa.UniqueConstraint("account_id", "identity", name="uq_posts_account_identity"),
        sa.Index("ix_posts_account_published", "account_id", "published_at"),
        sa.Index(
            "ix_posts_body_kept",
            "first_seen_at",
            sqlite_where=_BODY_KEPT,
            postgresql_where=_BODY_KEPT,
        ),
    )

    @property
    def body_text(self) -> str:
        """The visible text while it is kept, else ``""``."""
        return expand_body(self.body)


def stored_identity(identity: str) -> str:
    """What ``posts.identity`` holds for a feed item's ``identity``: itself up to
    :data:`SHORT_IDENTITY` characters, else its short prefix (``c<column id>:``, ``sha1:``; a
    URL scheme is dropped) and ``#`` and 16 base64 characters of its BLAKE2b-96 digest, so a
    website column's posts still start with ``c`` and snapshots with ``h``. Unique per account
    in practice (a collision among 10⁹ identities has odds of 10⁻¹¹), and the same on every
    run: migration 0018 keeps a frozen copy of this function for the rows stored before it."""
    if len(identity) <= SHORT_IDENTITY:
        return identity
    head, colon, _rest = identity.partition(":")
    prefix = head + colon if colon and len(head) <= 8 and head not in ("http", "https") else ""
    digest = hashlib.blake2b(identity.encode(), digest_size=12).digest()
    return f"{prefix}#{base64.urlsafe_b64encode(digest).decode()}"


def post_fingerprint(title: str, text: str) -> int:
    return fingerprint(f"{title}\n{text}")


@dataclass(frozen=True, slots=True)
class NewPost:
    """One item to store; plain data so the poller can build it off the database."""

    identity: str
    title: str
    link: str | None
    author: str | None
    published_at: datetime
    dated: bool
    body_text: str
    counts_as_activity: bool


async def known_pairs(
    session: AsyncSession, *, pairs: Sequence[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Which (account, identity) pairs are already stored, for a whole write batch of feeds:
    the feeds' own identities in and out, :func:`stored_identity` in between."""
    original = {(account_id, stored_identity(i)): i for account_id, i in pairs}
    found = await _known_stored(session, pairs=list(original))
    return {(account_id, original[account_id, key]) for account_id, key in found}


async def _known_stored(
    session: AsyncSession, *, pairs: Sequence[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Which (account, stored identity) pairs are in the table, for a whole write batch of feeds.

    Written as ``(account_id = ? AND identity IN (...)) OR ...``, about 400 pairs a statement:
    both SQLite (a multi-index OR) and PostgreSQL (a bitmap OR) probe the unique index once per
    account. A row-value ``(account_id, identity) IN (VALUES ...)`` made SQLite scan the whole
    index instead (seconds per statement at 3 M posts)."""
    if not pairs:
        return set()
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return await _known_pg(session, pairs)
    by_account: dict[int, list[str]] = {}
    for account_id, identity in pairs:
        by_account.setdefault(account_id, []).append(identity)
    found: set[tuple[int, str]] = set()
    chunk: list[sa.ColumnElement[bool]] = []
    size = 0
    for account_id, identities in by_account.items():
        for start in range(0, len(identities), 400):
            part = identities[start : start + 400]
            chunk.append(sa.and_(col(Post.account_id) == account_id, col(Post.identity).in_(part)))
            size += len(part) + 1
            if size >= 400:
                found |= await _known(session, chunk)
                chunk, size = [], 0
    if chunk:
        found |= await _known(session, chunk)
    return found


async def _known_pg(
    session: AsyncSession, pairs: Sequence[tuple[int, str]]
) -> set[tuple[int, str]]:
    """PostgreSQL: one statement of one shape for the whole batch, the pairs as two arrays
    joined against the unique index. The OR of IN lists cost the poller more CPU than the
    query did (SQLAlchemy re-renders every expanding IN on each execution: ≈ 10 ms a
    statement, a fifth of a changed feed's cost), and the server a new plan each time."""
    given = (
        sa.func.unnest(
            sa.bindparam("b_accounts", [a for a, _ in pairs], type_=postgresql.ARRAY(sa.Integer())),
            sa.bindparam(
                "b_identities", [i for _, i in pairs], type_=postgresql.ARRAY(sa.String())
            ),
        )
        .table_valued("account_id", "identity")
        .render_derived(name="given")
    )
    rows = await session.exec(
        select(Post.account_id, Post.identity).join(
            given,
            sa.and_(
                col(Post.account_id) == given.c.account_id,
                col(Post.identity) == given.c.identity,
            ),
        )
    )
    return {(int(a), str(i)) for a, i in rows.all()}


async def _known(
    session: AsyncSession, clauses: list[sa.ColumnElement[bool]]
) -> set[tuple[int, str]]:
    rows = await session.exec(select(Post.account_id, Post.identity).where(sa.or_(*clauses)))
    return {(int(a), str(i)) for a, i in rows.all()}


@dataclass(slots=True)
class PostRows:
    """New posts as rows ready to insert: the text compressed and fingerprinted (CPU work, done
    before the write transaction opens), with the feeds' own identities beside the stored."""

    rows: list[dict[str, object]]
    original: dict[tuple[int, str], str]

    def extend(self, other: PostRows) -> None:
        self.rows.extend(other.rows)
        self.original.update(other.original)


def post_rows(posts: dict[int, list[NewPost]], *, now: datetime, keep_body: bool) -> PostRows:
    """The rows :func:`insert_rows` stores. ``keep_body``: store the compressed text
    (``POST_BODY_DAYS`` > 0); the fingerprint is stored always."""
    out = PostRows(rows=[], original={})
    for account_id, new in posts.items():
        for p in new:
            row = _row(account_id, p, now=now, keep_body=keep_body)
            out.original[account_id, str(row["identity"])] = p.identity
            out.rows.append(row)
    return out


async def insert_rows(
    session: AsyncSession,
    prepared: PostRows,
    *,
    chunk: int = 0,
    pause: Callable[[], Awaitable[None]] | None = None,
) -> dict[tuple[int, str], int]:
    """Insert the rows of several accounts, skipping any (account, identity) already stored, a
    concurrent writer's included: ``ON CONFLICT DO NOTHING`` on the unique key makes it
    idempotent without a read-modify-write race. Returns the new rows' ids by (account,
    identity). ``chunk`` rows per statement (0: all in one), with ``pause`` awaited between
    statements: binding thousands of rows is CPU work on the event loop, and a chat sharing
    the loop gets its turn between chunks."""
    if not prepared.rows:
        return {}
    table = cast(sa.Table, sa.inspect(Post).local_table)
    stmt = (
        dialect_insert(session)(table)
        .on_conflict_do_nothing(index_elements=["account_id", "identity"])
        .returning(table.c.id, table.c.account_id, table.c.identity)
    )
    original = prepared.original
    size = chunk or len(prepared.rows)
    inserted: dict[tuple[int, str], int] = {}
    for start in range(0, len(prepared.rows), size):
        if start and pause is not None:
            await pause()
        result = await session.exec(stmt, params=prepared.rows[start : start + size])
        inserted.update(
            {(int(a), original[int(a), str(i)]): int(pid) for pid, a, i in result.all()}
        )
    return inserted


async def insert_many(
    session: AsyncSession,
    *,
    posts: dict[int, list[NewPost]],
    now: datetime,
    keep_body: bool = True,
) -> dict[tuple[int, str], int]:
    """:func:`post_rows` then :func:`insert_rows`, for callers with few posts at a time."""
    return await insert_rows(session, post_rows(posts, now=now, keep_body=keep_body))


def _row(account_id: int, p: NewPost, *, now: datetime, keep_body: bool) -> dict[str, object]:
    return {
        "account_id": account_id,
        "identity": stored_identity(p.identity),
        "title": p.title,
        "link": p.link,
        "author": p.author,
        "published_at": p.published_at,
        "dated": p.dated,
        "body": compress_body(p.body_text) if keep_body else None,
        "fingerprint": post_fingerprint(p.title, p.body_text),
        "first_seen_at": now,
        "counts_as_activity": p.counts_as_activity,
    }


async def activity_times(session: AsyncSession, *, account_id: int) -> list[datetime]:
    """Publication times of the posts that count as activity, oldest first."""
    rows = await session.exec(
        select(Post.published_at)
        .where(Post.account_id == account_id, col(Post.counts_as_activity).is_(True))
        .order_by(col(Post.published_at))
    )
    return list(rows)


async def activity_times_of(
    session: AsyncSession, *, account_ids: Sequence[int]
) -> dict[int, list[datetime]]:
    """:func:`activity_times` of several accounts in one query (the evaluation pass)."""
    rows = await session.exec(
        select(Post.account_id, Post.published_at)
        .where(col(Post.account_id).in_(account_ids), col(Post.counts_as_activity).is_(True))
        .order_by(col(Post.account_id), col(Post.published_at))
    )
    times: dict[int, list[datetime]] = {}
    for account_id, published_at in rows:
        times.setdefault(account_id, []).append(published_at)
    return times


async def latest(session: AsyncSession, *, account_id: int, limit: int = 5) -> list[Post]:
    rows = await session.exec(
        select(Post)
        .where(Post.account_id == account_id)
        .order_by(col(Post.published_at).desc(), col(Post.id).desc())
        .limit(limit)
    )
    return list(rows)


async def last_activity_post(session: AsyncSession, *, account_id: int) -> Post | None:
    rows = await session.exec(
        select(Post)
        .where(Post.account_id == account_id, col(Post.counts_as_activity).is_(True))
        .order_by(col(Post.published_at).desc(), col(Post.id).desc())
        .limit(1)
    )
    return rows.first()


async def latest_and_last_activity(
    session: AsyncSession, *, account_id: int, limit: int = 5
) -> tuple[list[Post], Post | None]:
    """:func:`latest` and :func:`last_activity_post` together: both follow one order, so the
    first counting post among the latest is the last activity, and a second query is needed
    only when none of the latest counts and there are more."""
    newest = await latest(session, account_id=account_id, limit=limit)
    last = next((p for p in newest if p.counts_as_activity), None)
    if last is None and len(newest) == limit:
        last = await last_activity_post(session, account_id=account_id)
    return newest, last


async def newest_activity(
    session: AsyncSession, *, account_ids: Sequence[int]
) -> dict[int, datetime]:
    """Newest counting post per account (accounts without posts are absent)."""
    if not account_ids:
        return {}
    rows = await session.exec(
        select(Post.account_id, func.max(Post.published_at))
        .where(col(Post.account_id).in_(account_ids), col(Post.counts_as_activity).is_(True))
        .group_by(col(Post.account_id))
    )
    return {account_id: when for account_id, when in rows if when is not None}


async def recent_counts(
    session: AsyncSession, *, account_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    """Counting posts published at or after ``since``, per account (the poll rhythm)."""
    if not account_ids:
        return {}
    rows = await session.exec(
        select(Post.account_id, func.count())
        .where(
            _among(session, col(Post.account_id), account_ids),
            col(Post.counts_as_activity).is_(True),
            Post.published_at >= since,
        )
        .group_by(col(Post.account_id))
    )
    return dict(rows.all())


def _among(session: AsyncSession, column: Any, ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL ``= any(array)``, one bound array: an expanding IN is
    re-rendered with one parameter per id on every execution (a write batch has 200)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return cast(
            sa.ColumnElement[bool],
            column
            == sa.any_(sa.bindparam("b_ids", list(ids), type_=postgresql.ARRAY(sa.Integer()))),
        )
    return cast(sa.ColumnElement[bool], column.in_(ids))


async def expire_bodies(session: AsyncSession, *, before: datetime, batch: int = 5000) -> int:
    """Drop the bodies of posts first seen before ``before``, ``batch`` rows per statement (the
    caller commits between calls); returns how many went. Uses the partial index on kept
    bodies, so the posts whose body is already gone cost nothing."""
    doomed = (
        select(Post.id)
        .where(col(Post.body).is_not(None), col(Post.first_seen_at) < before)
        .limit(batch)
    )
    result = await session.exec(
        sa.update(Post)
        .where(col(Post.id).in_(doomed.scalar_subquery()))
        .values(body=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def text_batch(
    session: AsyncSession, *, after: int, limit: int
) -> list[tuple[int, int, str, bytes | None]]:
    """(id, account, title, compressed body) of the next ``limit`` posts in id order: the
    history sweep's keyset walk (the primary key, so each batch is one index range)."""
    rows = await session.exec(
        select(Post.id, Post.account_id, Post.title, Post.body)
        .where(col(Post.id) > after)
        .order_by(col(Post.id))
        .limit(limit)
    )
    return [(int(i or 0), a, t, b) for i, a, t, b in rows.all()]


async def texts_of(
    session: AsyncSession, *, ids: Sequence[int]
) -> list[tuple[int, int, str, bytes | None]]:
    """:func:`text_batch`'s rows for given posts, in id order."""
    if not ids:
        return []
    rows = await session.exec(
        select(Post.id, Post.account_id, Post.title, Post.body)
        .where(col(Post.id).in_(ids))
        .order_by(col(Post.id))
    )
    return [(int(i or 0), a, t, b) for i, a, t, b in rows.all()]


async def count_all(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(Post))).one())
