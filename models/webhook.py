"""The webhook inbox: each update Telegram pushes is a row before it is answered.

Telegram gets its 200 as soon as the row is committed; the update is processed afterwards. A
crash between the answer and the end of processing leaves the row unprocessed, and whichever
replica's sweeper finds its claim expired processes it again (at least once). A redelivered
update (same ``update_id``) is recognised and not processed twice while its row exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, dialect_insert

#: Attempts after which an update that keeps failing is left alone (and counted in /metrics).
MAX_ATTEMPTS = 5


class WebhookUpdate(SQLModel, table=True):
    __tablename__ = "webhook_updates"

    update_id: int = Field(
        sa_type=sa.BigInteger(), primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    payload: str = Field(sa_type=sa.Text())
    received_at: datetime = Field(sa_type=UTCDateTime())
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime(), index=True)
    attempts: int = 0
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), index=True)


async def record(
    session: AsyncSession, *, update_id: int, payload: str, now: datetime, lease: timedelta
) -> bool:
    """Store a pushed update claimed by this replica; False if it was already recorded."""
    insert = dialect_insert(session)
    statement = (
        insert(WebhookUpdate)
        .values(
            update_id=update_id,
            payload=payload,
            received_at=now,
            claimed_until=now + lease,
            attempts=1,
        )
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    result = await session.exec(statement)
    return bool(result.rowcount)


async def mark_processed(session: AsyncSession, *, update_id: int, now: datetime) -> None:
    await session.exec(
        sa.update(WebhookUpdate)
        .where(col(WebhookUpdate.update_id) == update_id)
        .values(processed_at=now, claimed_until=None)
    )


async def claim_stale(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int = 100
) -> list[WebhookUpdate]:
    """Unprocessed updates whose claim has expired, claimed anew (oldest first)."""
    query = (
        select(WebhookUpdate)
        .where(col(WebhookUpdate.processed_at).is_(None))
        .where(col(WebhookUpdate.claimed_until) < now)
        .where(col(WebhookUpdate.attempts) < MAX_ATTEMPTS)
        .order_by(col(WebhookUpdate.update_id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.claimed_until = now + lease
        row.attempts += 1
        session.add(row)
    await session.flush()
    return rows


async def prune(session: AsyncSession, *, before: datetime) -> None:
    """Forget processed updates older than ``before`` (redeliveries come within minutes)."""
    await session.exec(sa.delete(WebhookUpdate).where(col(WebhookUpdate.processed_at) < before))


async def backlog(session: AsyncSession) -> int:
    query = select(sa.func.count()).where(col(WebhookUpdate.processed_at).is_(None))
    return int((await session.exec(query)).one())
