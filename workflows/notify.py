"""Queue typed notices in the outbox, in the caller's transaction.

One row per recipient chat; the notice's ``dedup_key()`` plus the chat makes a repeated event
(a re-run job, a double click) queue nothing. An audience that includes the office or a unit also
reaches that office's or unit's active group robots (WeCom, DingTalk, Feishu): one row per robot,
deduplicated per robot the same way.
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

#: ``chat_id`` of a robot row: it goes to ``channel_id``, never to a Telegram chat.
ROBOT_CHAT = 0


def dedup_for(notice: Notice, chat_id: int) -> str | None:
    key = notice.dedup_key()
    return None if key is None else f"{key}:{chat_id}"[:DEDUP_MAX]


def robot_dedup_for(notice: Notice, channel_id: int) -> str | None:
    key = notice.dedup_key()
    return None if key is None else f"{key}:robot{channel_id}"[:DEDUP_MAX]


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


async def enqueue_robot(
    session: AsyncSession,
    notice: Notice,
    *,
    channel_id: int,
    now: datetime,
    mention_user_id: int | None = None,
) -> OutboxMessage | None:
    """Queue ``notice`` for one group robot; ``None`` when queued for it before."""
    return await outbox.enqueue(
        session,
        chat_id=ROBOT_CHAT,
        kind=notice.kind,
        params=notice.params(),
        now=now,
        dedup_key=robot_dedup_for(notice, channel_id),
        channel_id=channel_id,
        mention_user_id=mention_user_id,
    )


async def notify(
    session: AsyncSession,
    notice: Notice,
    *,
    to: To,
    now: datetime,
    alert_chat_id: int | None = None,
) -> int:
    """Queue ``notice`` for every chat and group robot of ``to``; returns how many rows were new."""
    queued = 0
    for chat_id in await audience.chats(session, to, alert_chat_id=alert_chat_id):
        queued += await enqueue(session, notice, chat_id=chat_id, now=now) is not None
    for robot in await audience.robots(session, to):
        row = await enqueue_robot(
            session, notice, channel_id=robot.channel_id, now=now, mention_user_id=robot.mention
        )
        queued += row is not None
    return queued
