"""Driving the monitoring jobs from tests: move the manual clock, run a tick, evaluate."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.app import BotApp
from governance.clock import ManualClock
from jobs.evaluate import EvaluationSummary, evaluate_accounts
from jobs.poll import poll_feeds
from jobs.polltypes import TickSummary


async def run_jobs(app: BotApp, clock: ManualClock) -> tuple[TickSummary, EvaluationSummary]:
    """One poll tick and one evaluation at the clock's current time, as the scheduler would."""
    assert app.sessionmaker is not None and app.http is not None and app.parser is not None
    tick = await poll_feeds(
        sessionmaker=app.sessionmaker,
        clock=clock,
        settings=app.settings,
        http=app.http,
        parser=app.parser,
        rng=random.Random(7),
        hooks=app.post_hooks,
    )
    evaluation = await evaluate_accounts(
        sessionmaker=app.sessionmaker, clock=clock, settings=app.settings
    )
    assert app.sender is not None
    app.sender.wake()
    return tick, evaluation


async def next_day(app: BotApp, clock: ManualClock, days: float = 1) -> EvaluationSummary:
    clock.advance(timedelta(days=days))
    return (await run_jobs(app, clock))[1]


async def drain_outbox(app: BotApp, *, timeout: float = 20.0) -> None:
    """Wait until every queued message went out, so later replies are not mixed with alerts."""
    import asyncio

    from models import outbox

    assert app.sessionmaker is not None and app.sender is not None
    try:
        await asyncio.wait_for(app.idle(), timeout)
    except TimeoutError:
        raise AssertionError("the bot did not go idle") from None
    async with app.sessionmaker() as session:
        assert await outbox.backlog(session) == 0, "outbox did not drain"
