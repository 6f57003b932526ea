"""The running bot keeps what lives for its whole run out of full collections, and gives it back
when it stops (a full collection over the startup heap stopped the loop for 300-480 ms)."""

from __future__ import annotations

import gc

from bot.app import BotApp
from bot.settings import Settings
from governance.clock import ManualClock
from tests.conftest import start_bot
from tests.fakes.telegram import FakeTelegram
from workflows.checker import LiveChecker


async def test_a_running_bot_has_its_startup_heap_frozen_and_thaws_it_on_stop(
    settings: Settings, clock: ManualClock, tg: FakeTelegram
) -> None:
    bot_app: BotApp = await start_bot(tg, settings, clock)
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 100_000  # modules, the dispatcher, the content checker
    finally:
        await bot_app.stop()
    assert gc.get_freeze_count() == 0


async def test_a_rebuilt_checker_is_handed_to_the_freeze(sessionmaker) -> None:
    rebuilt: list[int] = []
    live = LiveChecker(after_rebuild=lambda: rebuilt.append(1))
    async with sessionmaker() as session:
        assert await live.refresh(session, force=True)
        assert not await live.refresh(session)  # nothing changed: no rebuild, no freeze
    assert rebuilt == [1]
