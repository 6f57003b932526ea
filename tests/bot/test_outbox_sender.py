"""The outbox sender against the fake Bot API: limits, 429, blocked chats, server errors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import BotApp
from bot.settings import Settings
from models import outbox
from models.outbox import OutboxMessage
from tests.conftest import make_settings
from tests.fakes.telegram import FakeTelegram


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram) -> Settings:
    """Telegram's real limits, on the manual clock (the other tests loosen them)."""
    return make_settings(
        database_url,
        tg.base,
        outbox_per_second=30,
        outbox_private_interval=1.0,
        outbox_group_per_minute=20,
    )


async def _queue(
    app: BotApp, clock, chat_id: int, n: int = 1, kind: str = "user.active_changed"
) -> None:
    async with app.sessionmaker() as session:
        for i in range(n):
            await outbox.enqueue(
                session,
                chat_id=chat_id,
                kind=kind,
                params={"who": f"测试{i}", "active": True},
                now=clock.now(),
            )
        await session.commit()


def _delivered(chat_id: int):
    return lambda c: (
        c.method == "sendMessage" and c.chat_id == chat_id and "message_id" in (c.result or {})
    )


async def _rows(app: BotApp) -> list[OutboxMessage]:
    async with app.sessionmaker() as session:
        return list(await session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.both_backends
async def test_429_postpones_the_chat_by_retry_after_and_then_delivers(
    app, tg: FakeTelegram, clock
) -> None:
    tg.fail_next("sendMessage", code=429, retry_after=30)
    mark = tg.mark()
    await _queue(app, clock, 6001)
    await tg.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 6001, since=mark)
    await tg.settle()
    [row] = await _rows(app)
    assert row.status == "pending" and row.next_attempt_at >= clock.now() + timedelta(seconds=30)
    assert len(tg.sent_to(6001, since=mark)) == 1, "nothing more is tried before retry_after"
    clock.advance(seconds=31)
    app.sender.wake()
    await tg.wait_for(_delivered(6001), since=mark)
    await tg.settle()
    [row] = await _rows(app)
    assert row.status == "sent" and row.message_id


async def test_blocked_chat_is_given_up_and_not_retried(app, tg: FakeTelegram, clock) -> None:
    tg.fail_next("sendMessage", code=403, description="Forbidden: bot was blocked by the user")
    mark = tg.mark()
    await _queue(app, clock, 6002)
    await tg.wait_for(lambda c: c.chat_id == 6002, since=mark)
    await tg.settle()
    clock.advance(hours=1)
    app.sender.wake()
    await tg.settle()
    [row] = await _rows(app)
    assert row.status == "gave_up" and "blocked" in (row.error or "")
    assert len(tg.sent_to(6002, since=mark)) == 1


async def test_server_error_retries_with_backoff(app, tg: FakeTelegram, clock) -> None:
    tg.fail_next("sendMessage", code=500, description="Internal Server Error")
    mark = tg.mark()
    await _queue(app, clock, 6003)
    await tg.wait_for(lambda c: c.chat_id == 6003, since=mark)
    await tg.settle()
    [row] = await _rows(app)
    assert row.status == "pending" and row.attempts == 1 and row.next_attempt_at > clock.now()
    clock.advance(seconds=5)
    app.sender.wake()
    await tg.wait_for(_delivered(6003), since=mark)
    await tg.settle()
    [row] = await _rows(app)
    assert row.status == "sent"


async def test_one_message_per_second_per_private_chat(app, tg: FakeTelegram, clock) -> None:
    mark = tg.mark()
    await _queue(app, clock, 6004, n=3)
    await tg.wait_for(lambda c: c.chat_id == 6004, since=mark)
    await tg.settle()
    assert len(tg.sent_to(6004, since=mark)) == 1, "the pacer holds the rest for a second"
    clock.advance(seconds=0.5)
    await tg.settle()
    assert len(tg.sent_to(6004, since=mark)) == 1, "half a second is not enough"
    clock.advance(seconds=0.5)
    await tg.settle()
    assert len(tg.sent_to(6004, since=mark)) == 2
    clock.advance(seconds=1)
    sent = await tg.user(6004, "x").inbox(since=mark, count=3, timeout=5)
    assert len(sent) == 3


async def test_at_most_30_messages_per_second_overall(app, tg: FakeTelegram, clock) -> None:
    mark = tg.mark()
    for chat_id in range(7001, 7032):  # 31 private chats, one message each
        await _queue(app, clock, chat_id)
    await tg.settle()
    sent = [c for c in tg.calls[mark:] if c.method == "sendMessage"]
    assert len(sent) == 30, "the 31st waits for the next second"
    clock.advance(seconds=1)
    await tg.settle()
    sent = [c for c in tg.calls[mark:] if c.method == "sendMessage"]
    assert sorted(c.chat_id for c in sent) == list(range(7001, 7032))


@pytest.mark.both_backends
async def test_dedup_key_queues_a_message_once(app, clock) -> None:
    async with app.sessionmaker() as session:
        first = await outbox.enqueue(
            session, chat_id=1, kind="k", now=clock.now(), dedup_key="same"
        )
        second = await outbox.enqueue(
            session, chat_id=1, kind="k", now=clock.now(), dedup_key="same"
        )
        await session.rollback()
    assert first is not None and second is None
