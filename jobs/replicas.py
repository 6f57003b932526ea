"""Housekeeping of what the replicas share: handled-update ids older than Telegram keeps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from models import replicas

#: Telegram keeps an undelivered update for 24 hours; ids older than this never come back.
UPDATE_MEMORY = timedelta(days=2)


async def prune_handled_updates(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> int:
    async with sessionmaker() as session:
        removed = await replicas.prune_handled_updates(session, before=clock.now() - UPDATE_MEMORY)
        await session.commit()
    return removed
