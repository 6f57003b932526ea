"""The evaluation pass writes only what changes: a steady account costs no write at all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa

from jobs.evaluate import evaluate_accounts
from models.alerts import AlertState
from tests.fakes import FeedServer
from tests.jobs.test_poll import add_account, http, office, parser, settings, tick

pytestmark = pytest.mark.both_backends

__all__ = ["http", "office", "parser", "settings"]  # fixtures shared with the poller's tests


@contextmanager
def writes(sessionmaker) -> Iterator[list[str]]:
    """The INSERT/UPDATE/DELETE statements sent through ``sessionmaker``'s engine meanwhile."""
    engine = sessionmaker.kw["bind"].sync_engine
    seen: list[str] = []

    def record(_conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


async def test_a_second_pass_with_nothing_changed_writes_nothing(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        account = await add_account(sessionmaker, office, clock, server.feed_url("gbk"))
        await tick(sessionmaker, clock, settings, http, parser)
    first = await evaluate_accounts(sessionmaker=sessionmaker, clock=clock, settings=settings)
    assert first.evaluated == 1
    async with sessionmaker() as session:
        memory = await session.get(AlertState, account)
    assert memory is not None and memory.evaluated_at is not None

    clock.advance(timedelta(minutes=30))  # the next pass: same posts, same day
    with writes(sessionmaker) as seen:
        again = await evaluate_accounts(sessionmaker=sessionmaker, clock=clock, settings=settings)
    assert seen == []
    assert (again.evaluated, again.queued, again.actions) == (1, 0, {})

    clock.advance(timedelta(days=1))  # a day later the silence is a day longer: written
    with writes(sessionmaker) as seen:
        await evaluate_accounts(sessionmaker=sessionmaker, clock=clock, settings=settings)
    assert any("alert_state" in statement for statement in seen)
    async with sessionmaker() as session:
        later = await session.get(AlertState, account)
    assert later is not None
    assert later.days_since_last_post == (memory.days_since_last_post or 0) + 1
