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
from models.replicas import MARK_QUICKLY, HandledUpdate


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
    marks: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "handled_updates" in statement and "ON CONFLICT" in statement:
            marks.append(statement)

    async def replied(event: Any, data: dict[str, Any]) -> None:
        await data["session"].commit()  # a reply commits the update's work before it leaves

    async def wrote_after_reply(event: Any, data: dict[str, Any]) -> None:
        await replied(event, data)
        data["session"].add(HandledUpdate(update_id=99, replica="x", handled_at=clock.now()))
        await data["session"].flush()

    engine = sessionmaker.kw["bind"].sync_engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        for update_id, handler in ((8, replied), (9, wrote_after_reply)):
            async with sessionmaker() as session:
                await middleware(handler, Update(update_id=update_id), {"session": session})
                await session.commit()
                assert await _commit_mode(session) == "on"  # the next transaction waits again
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    alone, after_writes = marks
    assert "set_config" in alone, "alone: one statement that turns the wait off for itself"
    assert "set_config" not in after_writes, "after the handler's own writes: a durable commit"
    async with sessionmaker() as session:
        ids = set(await session.exec(select(HandledUpdate.update_id)))
    assert ids == {8, 9, 99}


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
async def test_the_quick_record_commits_asynchronously_and_only_itself(
    sessionmaker, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("synchronous_commit is PostgreSQL's")
    now = datetime(2026, 6, 1, tzinfo=UTC)
    params = {"update_id": 12, "replica": "r", "handled_at": now}
    async with sessionmaker() as session:
        connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        first = (await connection.execute(MARK_QUICKLY, params)).all()
        again = (await connection.execute(MARK_QUICKLY, params)).all()
        after = (await connection.execute(sa.text("SHOW synchronous_commit"))).scalar_one()
    assert [tuple(r) for r in first] == [("off",)], "its own commit does not wait for the disk"
    assert again == [], "a second copy of the update is not recorded again"
    assert after == "on", "the next statement on the connection commits durably"
    async with sessionmaker() as session:
        assert await session.get(HandledUpdate, 12) is not None, "committed without a COMMIT"
