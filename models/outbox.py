"""The outbox: every message to another person is a row first, sent later by one sender.

Writing the row in the same transaction as the state change means a crash between commit and
send loses nothing. Delivery is at-least-once: the sender marks a row sent in a transaction of its
own right after Telegram accepts the message, so a crash in between sends that one message again
after the restart (at most one duplicate per crash; see :mod:`bot.outbox`). A message is stored as a
*kind* plus parameters and rendered in the recipient's language when it is sent, so code that
has no access to translations (jobs) can still enqueue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import EnumString, UTCDateTime


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # a permanent error (bad request); shown in /monitor, can be queued again
    GAVE_UP = "gave_up"  # the chat blocked the bot or no longer exists


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=sa.BigInteger(), index=True)
    kind: str = Field(max_length=64)
    params: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    dedup_key: str | None = Field(default=None, max_length=200, unique=True)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=EnumString(OutboxStatus, 16))
    attempts: int = 0
    progress: int = 0  # actions of a multi-step message already delivered (copies, then card)
    created_at: datetime = Field(sa_type=UTCDateTime())
    next_attempt_at: datetime = Field(sa_type=UTCDateTime())
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    message_id: int | None = Field(default=None, sa_type=sa.BigInteger())
    error: str | None = Field(default=None, max_length=500)
    # a row for a group robot (WeCom/DingTalk/Feishu) instead of a Telegram chat (chat_id 0);
    # the person to @-mention is resolved when sending, so no mobile is copied into the outbox
    channel_id: int | None = Field(default=None, foreign_key="robot_channels.id", index=True)
    mention_user_id: int | None = Field(default=None, foreign_key="users.id")

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)


#: ``session.info`` key: this session's transaction queued a message (so wake the sender).
QUEUED = "outbox_queued"


def take_queued(session: AsyncSession) -> bool:
    """Whether ``session`` queued a message since the last call (and forget it)."""
    return bool(session.info.pop(QUEUED, False))


async def enqueue(
    session: AsyncSession,
    *,
    chat_id: int,
    kind: str,
    params: dict[str, Any] | None = None,
    now: datetime,
    dedup_key: str | None = None,
    channel_id: int | None = None,
    mention_user_id: int | None = None,
) -> OutboxMessage | None:
    """Queue one message in the caller's transaction; a repeated ``dedup_key`` queues nothing,
    also when two transactions queue it at once (``ON CONFLICT DO NOTHING``: the second neither
    fails nor sends it twice)."""
    message = OutboxMessage(
        chat_id=chat_id,
        kind=kind,
        params=params or {},
        dedup_key=dedup_key,
        channel_id=channel_id,
        mention_user_id=mention_user_id,
        created_at=now,
        next_attempt_at=now,
    )
    if dedup_key is None:
        session.add(message)
        await session.flush()
        session.info[QUEUED] = True
        return message
    table = cast(sa.Table, sa.inspect(OutboxMessage).local_table)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = message.model_dump(exclude={"id"})
    stmt = insert(table).values(**values).on_conflict_do_nothing(index_elements=["dedup_key"])
    new_id = (await session.exec(stmt.returning(table.c.id))).scalar()
    if new_id is None:
        return None
    session.info[QUEUED] = True
    return await session.get(OutboxMessage, new_id)


async def due_messages(session: AsyncSession, *, now: datetime, limit: int) -> list[OutboxMessage]:
    rows = await session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    return list(rows)


async def due_lanes(
    session: AsyncSession, *, now: datetime, per_lane: int, limit: int
) -> list[tuple[int, int, int | None, int]]:
    """Due pending rows as ``(id, chat_id, channel_id, due rows of that destination)``: at most
    ``per_lane`` per destination (a chat, or a group robot), the first of every destination
    before the second of any.

    Whatever order rows were queued in, one batch then holds work for many destinations, so
    the sender never idles behind one chat's per-second limit (see :mod:`bot.fairqueue`).
    """
    lane = (col(OutboxMessage.chat_id), col(OutboxMessage.channel_id))
    due = (
        sa.select(
            col(OutboxMessage.id).label("id"),
            col(OutboxMessage.chat_id).label("chat_id"),
            col(OutboxMessage.channel_id).label("channel_id"),
            func.row_number().over(partition_by=lane, order_by=col(OutboxMessage.id)).label("rank"),
            func.count().over(partition_by=lane).label("backlog"),
        )
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .subquery()
    )
    connection = await session.connection()  # Core rows: four plain columns, no entities
    rows = await connection.execute(
        sa.select(due.c.id, due.c.chat_id, due.c.channel_id, due.c.backlog)
        .where(due.c.rank <= per_lane)
        .order_by(due.c.rank, due.c.id)
        .limit(limit)
    )
    return [(int(i), int(c), None if r is None else int(r), int(n)) for i, c, r, n in rows]


async def backlog(session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
    )
    return int(result.one())


async def mark_sent(
    session: AsyncSession, *, message: OutboxMessage, now: datetime, message_id: int | None
) -> None:
    message.status, message.sent_at, message.message_id = OutboxStatus.SENT, now, message_id
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
    message.status = status
    message.error = error[:500]
    message.next_attempt_at = now
    session.add(message)


async def postpone_chat(session: AsyncSession, *, chat_id: int, until: datetime) -> None:
    """Honour a 429 for one chat: nothing more goes to it before ``until``."""
    await session.exec(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_id) == chat_id,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) < until,
        )
        .values(next_attempt_at=until)
    )


async def release_retries(session: AsyncSession, *, now: datetime) -> None:
    """After an outage: rows waiting out a transient failure's backoff are due at once."""
    await session.exec(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING.value,
            col(OutboxMessage.error).is_not(None),
            col(OutboxMessage.next_attempt_at) > now,
        )
        .values(next_attempt_at=now)
    )


async def failed_messages(
    session: AsyncSession, *, limit: int = 10
) -> tuple[int, list[OutboxMessage]]:
    """How many rows failed for good, and the latest ``limit`` of them."""
    where = OutboxMessage.status == OutboxStatus.FAILED.value
    total = await session.exec(select(func.count()).select_from(OutboxMessage).where(where))
    rows = await session.exec(
        select(OutboxMessage).where(where).order_by(col(OutboxMessage.id).desc()).limit(limit)
    )
    return int(total.one()), list(rows)


async def requeue_failed(session: AsyncSession, *, now: datetime, message_id: int | None) -> int:
    """Queue failed rows again (one, or all with ``message_id=None``); returns how many."""
    where = [col(OutboxMessage.status) == OutboxStatus.FAILED.value]
    if message_id is not None:
        where.append(col(OutboxMessage.id) == message_id)
    result = await session.exec(
        sa.update(OutboxMessage)
        .where(*where)
        .values(status=OutboxStatus.PENDING.value, next_attempt_at=now, error=None)
    )
    return int(result.rowcount or 0)
