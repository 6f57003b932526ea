"""Upkeep of what the database derives from the registry."""

from __future__ import annotations

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import tallies


async def reconcile_account_tallies(*, sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Scheduled job: the safety net behind the triggers that keep the account tallies (a dump
    restored without them, a table rebuilt by hand); one grouped count of the registry, and a
    write only where a tally is wrong."""
    async with sessionmaker() as session:
        corrected = await tallies.reconcile(session)
        await session.commit()
    if corrected:
        logger.warning("account tallies reconciled: {} counts were wrong", corrected)
    return corrected
