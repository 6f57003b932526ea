"""Queue typed notices in the outbox, in the caller's transaction.

One row per recipient chat; the notice's ``dedup_key()`` plus the chat makes a repeated event
(a re-run job, a double click) queue nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import outbox
from models.outbox import OutboxMessage
from workflows import audience
from workflows.audience import To
from workflows.notices import Notice

DEDUP_MAX = 200


def dedup_for(notice: Notice, chat_id: int) -> str | None:
    key = notice.dedup_key()
    return None if key is None else f"{key}:{chat_id}"[:DEDUP_MAX]


async def enqueue(
    session: AsyncSession, notice: Notice, *, chat_id: int, now: datetime
) -> OutboxMessage | None:
    """Queue ``notice`` for one chat; ``None`` when the same notice was queued before."""
    return await outbox.enqueue(
        session,
        chat_id=chat_id,
        kind=notice.kind,
        params=notice.params(),
        now=now,
        dedup_key=dedup_for(notice, chat_id),
    )


async def notify(
    session: AsyncSession,
    notice: Notice,
    *,
    to: To,
    now: datetime,
    alert_chat_id: int | None = None,
) -> int:
    """Queue ``notice`` for every chat of ``to``; returns how many rows were new."""
    queued = 0
    for chat_id in await audience.chats(session, to, alert_chat_id=alert_chat_id):
        queued += await enqueue(session, notice, chat_id=chat_id, now=now) is not None
    return queued
