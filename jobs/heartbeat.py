"""A periodic sign of life with the few numbers an operator wants at a glance."""

from __future__ import annotations

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from models import accounts, outbox


async def heartbeat(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> dict[str, int]:
    async with sessionmaker() as session:
        figures = {
            "outbox_backlog": await outbox.backlog(session),
            "pending_registrations": (await accounts.pending_registrations(session, size=1)).total,
        }
    logger.info("heartbeat at {}: {}", clock.now().isoformat(timespec="seconds"), figures)
    return figures
