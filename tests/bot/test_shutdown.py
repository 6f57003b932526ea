"""Stopping the bot lets in-flight work close its database sessions before the engine goes: a
task cancelled but never awaited kept its connection, which the garbage collector later dropped
unclosed (aiosqlite's ResourceWarning, a stray failure in whichever test was running)."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from bot.settings import Settings
from bot.shutdown import settle
from governance.clock import ManualClock
from tests.conftest import start_bot
from tests.fakes.telegram import FakeTelegram


async def test_stop_disposes_the_engine_only_after_a_running_job_has_closed_its_session(
    settings: Settings, clock: ManualClock, tg: FakeTelegram
) -> None:
    app = await start_bot(tg, settings, clock)
    assert app.scheduler is not None and app.engine is not None and app.sessionmaker
    engine, sessionmaker = app.engine, app.sessionmaker
    inside = asyncio.Event()
    closed_before_dispose: list[bool] = []

    async def held_job() -> None:
        pool = engine.pool  # dispose() puts a new pool in its place
        try:
            async with sessionmaker() as session:
                await session.exec(select(1))
                inside.set()
                try:
                    await asyncio.Event().wait()  # still running when the bot stops
                except asyncio.CancelledError:
                    for _ in range(50):  # unwinding takes round trips, as a rollback does
                        await session.exec(select(1))
                    raise
        finally:
            closed_before_dispose.append(engine.pool is pool)

    app.scheduler.add_job(held_job, id="held")
    await asyncio.wait_for(inside.wait(), 10)
    assert engine.pool.checkedout() == 1
    await app.stop()
    assert closed_before_dispose == [True]


async def test_settle_waits_for_work_that_ends_within_the_grace() -> None:
    release = asyncio.Event()
    finished: list[str] = []

    async def work() -> None:
        await release.wait()
        finished.append("done")

    task = asyncio.create_task(work())
    waiting = asyncio.create_task(settle({task}, grace=10, what="tasks"))
    release.set()
    await waiting
    assert finished == ["done"] and not task.cancelled()


async def test_settle_cancels_what_outlasts_the_grace_and_waits_for_it_to_unwind() -> None:
    unwound: list[str] = []

    async def stuck() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # unwinding itself awaits, as closing a session does
            unwound.append("closed")

    task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    await settle({task}, grace=0.01, what="tasks")
    assert task.cancelled() and unwound == ["closed"]
