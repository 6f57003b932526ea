"""The running bot keeps what lives for its whole run out of full collections and runs them at
quiet moments, and gives all of it back when it stops (a full collection over the startup heap
stopped the loop for 300-480 ms)."""

from __future__ import annotations

import asyncio
import gc
import sys
import weakref

import pytest

from bot import runtime
from bot.app import BotApp
from bot.settings import Settings
from governance.clock import ManualClock
from tests.conftest import start_bot
from tests.fakes.chat import BusyChat
from tests.fakes.telegram import FakeTelegram
from workflows.checker import LiveChecker


async def test_a_running_bot_has_its_startup_heap_frozen_and_thaws_it_on_stop(
    settings: Settings, clock: ManualClock, tg: FakeTelegram
) -> None:
    thresholds, switch = gc.get_threshold(), sys.getswitchinterval()
    bot_app: BotApp = await start_bot(tg, settings, clock)
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 100_000  # modules, the dispatcher, the content checker
        assert gc.get_threshold()[2] > 1_000_000  # no automatic full collection
        assert sys.getswitchinterval() == runtime.SWITCH_INTERVAL
    finally:
        await bot_app.stop()
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == thresholds and sys.getswitchinterval() == switch


async def test_full_collections_wait_for_the_chat_to_go_quiet() -> None:
    chat = BusyChat(in_flight=1)  # an update is being handled
    collections = runtime.QuietCollections(chat, every=0)
    rounds = 0

    async def stopping(_delay: float) -> bool:
        nonlocal rounds
        rounds += 1
        return rounds > 2

    run = asyncio.ensure_future(collections.run(stopping))
    await asyncio.wait_for(chat.waited_on.wait(), 5)
    assert collections.collections == 0 and not run.done()
    chat.finish()
    await asyncio.wait_for(run, 5)
    assert collections.collections == 2


class _Cycle:
    def __init__(self) -> None:
        self.me = self


async def test_survivors_are_frozen_and_a_cycle_dropped_later_goes_at_the_deep_collection() -> None:
    """Each quiet collection freezes what survived it (the next walks only younger objects);
    a cycle that was frozen alive and dropped since waits for the deep collection."""
    collections = runtime.QuietCollections(BusyChat(in_flight=0), every=1, deep_every=3)
    cycle = _Cycle()
    gone = weakref.ref(cycle)
    seen: list[bool] = []

    async def stopping(_delay: float) -> bool:
        nonlocal cycle
        if collections.collections == 1:  # frozen alive by the first collection
            assert gc.get_freeze_count() > 0
            del cycle
        seen.append(gone() is None)
        return collections.collections == 3

    try:
        await asyncio.wait_for(collections.run(stopping), 5)
    finally:
        gc.unfreeze()
    # before the first, after the first (dropped now), after the second (frozen: kept)
    assert seen == [False, False, False, True]
    assert collections.deep == 1


async def test_a_rebuilt_checker_is_handed_to_the_freeze(sessionmaker) -> None:
    rebuilt: list[int] = []
    live = LiveChecker(after_rebuild=lambda: rebuilt.append(1))
    async with sessionmaker() as session:
        assert await live.refresh(session, force=True)
        assert not await live.refresh(session)  # nothing changed: no rebuild, no freeze
    assert rebuilt == [1]


async def _which_loop() -> str:
    return runtime.loop_name()


def test_the_bot_runs_on_uvloop_unless_asked_for_asyncios_loop(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert runtime.run_loop(_which_loop()) == "uvloop"  # a dependency: installed everywhere
    assert runtime.run_loop(_which_loop(), loop="uvloop") == "uvloop"
    assert runtime.run_loop(_which_loop(), loop="asyncio") == "asyncio"
    monkeypatch.setitem(sys.modules, "uvloop", None)  # a platform without it
    assert runtime.run_loop(_which_loop()) == "asyncio"
    coro = _which_loop()
    with pytest.raises(ImportError):  # EVENT_LOOP=uvloop without uvloop fails at start
        runtime.run_loop(coro, loop="uvloop")
    coro.close()
