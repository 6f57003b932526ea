"""Jobs in the bot's process let the chat's replies go first and work in slices."""

from __future__ import annotations

import asyncio

from bot.app import BotApp
from jobs.slices import LoopShare
from tests.fakes.chat import BusyChat


async def test_a_job_step_waits_while_updates_are_being_handled() -> None:
    chat = BusyChat(in_flight=2)
    step = asyncio.ensure_future(LoopShare(chat, max_wait=60).checkpoint())
    await asyncio.wait_for(chat.waited_on.wait(), 5)
    assert not step.done()  # an update is in flight: the job waits
    chat.finish()
    await asyncio.wait_for(step, 5)


async def test_a_chat_that_never_goes_quiet_holds_a_job_step_no_longer_than_max_wait() -> None:
    chat = BusyChat(in_flight=1)
    await asyncio.wait_for(LoopShare(chat, max_wait=0).checkpoint(), 5)
    assert chat.in_flight == 1


async def test_without_updates_a_step_yields_only_once_its_slice_is_spent() -> None:
    ran: list[str] = []

    async def other() -> None:
        ran.append("other")

    pending = asyncio.ensure_future(other())
    await LoopShare(BusyChat(in_flight=0), budget=3600).checkpoint()
    assert ran == []  # budget left: no yield, no cost
    await LoopShare(None, budget=0).checkpoint()
    assert ran == ["other"] and pending.done()  # budget spent: the loop ran what was ready


async def test_the_bot_hands_its_update_count_to_the_poll_tick_and_the_evaluation(
    app: BotApp,
) -> None:
    assert app.scheduler is not None
    for job_id in ("poll_feeds", "evaluate_accounts"):
        job = app.scheduler.get_job(job_id)
        assert job is not None and job.kwargs["replies"] is app.activity
