"""The outbox: every message to another person is a row first, sent later by one sender.

Writing the row in the same transaction as the state change means a crash between commit and
send loses nothing; the sender marks each row sent (or given up) so a restart sends nothing
twice. A message is stored as a *kind* plus parameters and rendered in the recipient's language
when it is sent, so code that has no access to translations (jobs) can still enqueue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, enum_column


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # a permanent error (bad request); kept for inspection
    GAVE_UP = "gave_up"  # the chat blocked the bot or no longer exists


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=sa.BigInteger(), index=True)
    kind: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    dedup_key: str | None = Field(default=None, max_length=200, unique=True)
    status: str = Field(default=OutboxStatus.PENDING.value, sa_type=enum_column(16))
    attempts: int = 0
    progress: int = 0  # actions of a multi-step message already delivered (copies, then card)
    created_at: datetime = Field(sa_type=UTCDateTime())
    next_attempt_at: datetime = Field(sa_type=UTCDateTime())
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    message_id: int | None = Field(default=None, sa_type=sa.BigInteger())
    error: str | None = Field(default=None, max_length=500)

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    kind: str,
    params: dict[str, Any] | None = None,
    now: datetime,
    dedup_key: str | None = None,
) -> OutboxMessage | None:
    """Queue one message in the caller's transaction; a repeated ``dedup_key`` queues nothing."""
    if dedup_key is not None:
        existing = await session.exec(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
        )
        if existing.first() is not None:
            return None
    message = OutboxMessage(
        chat_id=chat_id,
        kind=kind,
        params=params or {},
        dedup_key=dedup_key,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def due_messages(session: AsyncSession, *, now: datetime, limit: int) -> list[OutboxMessage]:
    rows = await session.exec(
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= now
        )
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    return list(rows)


async def backlog(session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING.value)
    )
    return int(result.one())


async def mark_sent(
    session: AsyncSession, *, message: OutboxMessage, now: datetime, message_id: int | None
) -> None:
    message.status, message.sent_at, message.message_id = OutboxStatus.SENT.value, now, message_id
    message.attempts += 1
    message.error = None
    session.add(message)


async def mark_retry(
    session: AsyncSession, *, message: OutboxMessage, after: timedelta, now: datetime, error: str
) -> None:
    message.attempts += 1
    message.next_attempt_at = now + after
    message.error = error[:500]
    session.add(message)


async def mark_final(
    session: AsyncSession,
    *,
    message: OutboxMessage,
    status: OutboxStatus,
    now: datetime,
    error: str,
) -> None:
    message.attempts += 1
    message.status = status.value
    message.error = error[:500]
    message.next_attempt_at = now
    session.add(message)


async def postpone_chat(session: AsyncSession, *, chat_id: int, until: datetime) -> None:
    """Honour a 429 for one chat: nothing more goes to it before ``until``."""
    await session.exec(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING.value,
            col(OutboxMessage.next_attempt_at) < until,
        )
        .values(next_attempt_at=until)
    )
