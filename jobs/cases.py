"""The scheduled pass over rectification cases: resolve what monitoring shows fixed, escalate
what is late. One transaction; notices go through the outbox with dedup keys, so a second run
(or a crash between runs) escalates and tells nobody twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from workflows import cases as rectification

if TYPE_CHECKING:
    from bot.settings import Settings


async def check_cases(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> tuple[int, int]:
    """Return (resolved, escalated)."""
    async with sessionmaker() as session:
        resolved, escalated = await rectification.sweep(
            session, now=clock.now(), policy=settings.case_policy()
        )
        await session.commit()
    if resolved or escalated:
        logger.info("cases: {} resolved, {} escalated", resolved, escalated)
    return resolved, escalated
