"""Ending in-flight work before the engine goes.

A task still inside ``async with sessionmaker()`` when the engine is disposed and the loop
closes never returns its connection: SQLAlchemy cannot close it from the garbage collector in
asyncio, and the driver's connection (aiosqlite's thread, asyncpg's socket) is dropped
unclosed. So a stop lets handlers and jobs end, for a bounded grace, and cancels and awaits
whatever is left, before anything they use is closed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any

from loguru import logger


async def settle(tasks: Collection[asyncio.Future[Any]], *, grace: float, what: str) -> None:
    """Wait up to ``grace`` seconds for ``tasks``; cancel the rest and wait for them to unwind."""
    pending = {task for task in tasks if not task.done()}
    if not pending:
        return
    _, pending = await asyncio.wait(pending, timeout=grace)
    if not pending:
        return
    logger.warning("stopping: cancelling {} unfinished {}", len(pending), what)
    for task in pending:
        task.cancel()
    _, stuck = await asyncio.wait(pending, timeout=grace)
    if stuck:
        logger.error("stopping: {} {} did not end after cancellation", len(stuck), what)
