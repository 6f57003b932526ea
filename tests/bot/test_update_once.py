"""Handled-update ids are recorded where a copy of an update can come back (replicas, webhook
retries), and not by the one SQLite process polling Telegram, where the row only made every
update a writer waiting for the database's write lock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
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


async def _commit_mode(session: Any) -> str:
    connection = await session.connection()
    return str((await connection.execute(sa.text("SHOW synchronous_commit"))).scalar_one())


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
async def test_a_record_alone_in_its_transaction_commits_without_waiting_for_the_disk(
    sessionmaker, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("synchronous_commit is PostgreSQL's")
    clock = ManualClock(datetime(2026, 6, 1, tzinfo=UTC))
    middleware = UpdateOnceMiddleware(replica="r", clock=clock, record=True)

    async def replied(event: Any, data: dict[str, Any]) -> None:
        await data["session"].commit()  # a reply commits the update's work before it leaves

    async def wrote_after_reply(event: Any, data: dict[str, Any]) -> None:
        await replied(event, data)
        data["session"].add(HandledUpdate(update_id=99, replica="x", handled_at=clock.now()))
        await data["session"].flush()

    for update_id, handler, mode in ((8, replied, "off"), (9, wrote_after_reply, "on")):
        async with sessionmaker() as session:
            await middleware(handler, Update(update_id=update_id), {"session": session})
            assert await _commit_mode(session) == mode
            await session.commit()
            assert await _commit_mode(session) == "on"  # for that one transaction only
    async with sessionmaker() as session:
        ids = set(await session.exec(select(HandledUpdate.update_id)))
    assert ids == {8, 9, 99}
