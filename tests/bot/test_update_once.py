"""Handled-update ids are recorded where a copy of an update can come back (replicas, webhook
retries), and not by the one SQLite process polling Telegram, where the row only made every
update a writer waiting for the database's write lock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.types import Update
from sqlmodel import select

from bot.middlewares import UpdateOnceMiddleware
from governance.clock import ManualClock
from models.replicas import HandledUpdate


async def _handle(sessionmaker, middleware: UpdateOnceMiddleware, update_id: int) -> list[str]:
    handled: list[str] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        handled.append("handled")

    async with sessionmaker() as session:
        await middleware(handler, Update(update_id=update_id), {"session": session})
        await session.commit()
    return handled


@pytest.mark.parametrize("record", [True, False])
async def test_the_update_id_is_recorded_only_when_asked(sessionmaker, record: bool) -> None:
    clock = ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    middleware = UpdateOnceMiddleware(replica="r", clock=clock, record=record)
    assert await _handle(sessionmaker, middleware, 7) == ["handled"]
    async with sessionmaker() as session:
        ids = list(await session.exec(select(HandledUpdate.update_id)))
    assert ids == ([7] if record else [])
    again = await _handle(sessionmaker, middleware, 7)
    assert again == ([] if record else ["handled"]), "a recorded copy is skipped"
