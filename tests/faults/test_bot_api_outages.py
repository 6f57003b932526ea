"""The outbox through Bot API storms and outages: 429, 5xx JSON, 502 HTML, refused connections
and a 10-minute outage with the injected clock lose nothing; only Telegram's permanent answers
fail a row, and those come back from /monitor.

The sender is driven pass by pass (``send_due``) with the manual clock, so every assertion is
about a finished pass, never about a quiet period.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import build_i18n
from bot.outbox import MAX_BACKOFF, OutboxSender
from bot.pacing import RateLimits
from governance.clock import ManualClock
from handlers.notices import RENDERERS
from models import outbox
from models.outbox import OutboxMessage
from tests.conftest import ADMIN_ID
from tests.fakes.telegram import TOKEN, FakeTelegram


@pytest.fixture
async def sender(
    sessionmaker: async_sessionmaker[AsyncSession], clock: ManualClock, tg: FakeTelegram
) -> AsyncIterator[OutboxSender]:
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    yield OutboxSender(
        bot=bot,
        sessionmaker=sessionmaker,
        clock=clock,
        i18n=build_i18n(),
        renderers=RENDERERS,
        limits=RateLimits(global_per_second=1000, private_interval=0.0),
    )
    await bot.session.close()


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    lines: list[str] = []
    handle = logger.add(lambda m: lines.append(str(m)), level="DEBUG", format="{level} {message}")
    yield lines
    logger.remove(handle)


async def _queue(sessionmaker: Any, clock: ManualClock, chats: range) -> None:
    async with sessionmaker() as session:
        for chat_id in chats:
            await outbox.enqueue(
                session,
                chat_id=chat_id,
                kind="user.active_changed",
                params={"who": f"测试{chat_id}", "active": True},
                now=clock.now(),
            )
        await session.commit()


async def _rows(sessionmaker: Any) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(await session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _attempts(tg: FakeTelegram, mark: int) -> int:
    return sum(1 for c in tg.calls[mark:] if c.method == "sendMessage")


def _delivered(tg: FakeTelegram, mark: int) -> list[int]:
    return [
        c.chat_id or 0
        for c in tg.calls[mark:]
        if c.method == "sendMessage" and "message_id" in (c.result or {})
    ]


async def _ride_out(sender: OutboxSender, clock: ManualClock, *, seconds: int, step: int) -> None:
    """Passes every ``step`` seconds of injected time, as the running sender would make them."""
    for _ in range(seconds // step):
        clock.advance(seconds=step)
        await sender.send_due()


async def _recover(sender: OutboxSender, clock: ManualClock, sessionmaker: Any) -> None:
    """After the API is back: passes until nothing is pending (at most one backoff later)."""
    for _ in range(50):
        clock.advance(seconds=30)
        await sender.send_due()
        if all(r.status != "pending" for r in await _rows(sessionmaker)):
            return
    raise AssertionError("rows still pending long after the API came back")


@pytest.mark.parametrize("storm", ["502_html", "500"])
async def test_a_storm_of_undecodable_or_server_errors_loses_nothing_and_probes_once(
    sender: OutboxSender,
    tg: FakeTelegram,
    clock: ManualClock,
    sessionmaker: Any,
    log_lines: list[str],
    storm: str,
) -> None:
    chats = range(7001, 7031)
    await _queue(sessionmaker, clock, chats)
    tg.outage = storm
    mark = tg.mark()
    assert await sender.send_due() == 0
    assert _attempts(tg, mark) == 1, "one probe while the API is down, not one per chat"
    await _ride_out(sender, clock, seconds=20, step=1)
    assert _attempts(tg, mark) <= 5, "20 s of storm cost a handful of probes"
    assert all(r.status == "pending" for r in await _rows(sessionmaker))

    tg.outage = None
    await _recover(sender, clock, sessionmaker)
    rows = await _rows(sessionmaker)
    assert [r.status for r in rows] == ["sent"] * 30
    assert sorted(_delivered(tg, mark)) == list(chats), "each alert once, none lost"
    assert not any("Traceback" in line for line in log_lines)
    failures = [line for line in log_lines if "not sent yet" in line]
    assert len(failures) == _attempts(tg, mark) - 30, "one log line per failed attempt"


async def test_a_ten_minute_outage_with_refused_connections_loses_nothing(
    sender: OutboxSender,
    tg: FakeTelegram,
    clock: ManualClock,
    sessionmaker: Any,
    log_lines: list[str],
) -> None:
    chats = range(7101, 7111)
    await _queue(sessionmaker, clock, chats)
    await tg.go_down()
    await _ride_out(sender, clock, seconds=600, step=5)
    probes = [line for line in log_lines if "not sent yet" in line]
    assert 1 <= len(probes) <= 12, "backoff, not one attempt per chat per pass"
    assert all(r.status == "pending" for r in await _rows(sessionmaker))
    # the outage goes on past every lifetime limit the old sender had (8 attempts, ~255 s)
    await _ride_out(sender, clock, seconds=1800, step=60)
    assert all(r.status == "pending" for r in await _rows(sessionmaker))

    await tg.come_up()
    mark = tg.mark()
    await _recover(sender, clock, sessionmaker)
    assert sorted(_delivered(tg, mark)) == list(chats)
    assert not any("Traceback" in line for line in log_lines)


async def test_backoff_is_capped_so_recovery_is_noticed_within_ten_minutes(
    sender: OutboxSender, tg: FakeTelegram, clock: ManualClock, sessionmaker: Any
) -> None:
    await _queue(sessionmaker, clock, range(7201, 7202))
    tg.outage = "500"
    await _ride_out(sender, clock, seconds=3 * 3600, step=60)
    tg.outage = None
    mark = tg.mark()
    clock.advance(MAX_BACKOFF)
    await sender.send_due()
    assert _delivered(tg, mark) == [7201]


async def test_429_postpones_only_that_chat(
    sender: OutboxSender, tg: FakeTelegram, clock: ManualClock, sessionmaker: Any
) -> None:
    await _queue(sessionmaker, clock, range(7301, 7304))
    tg.fail_next("sendMessage", code=429, retry_after=30)
    mark = tg.mark()
    await sender.send_due()
    assert sorted(_delivered(tg, mark)) == [7302, 7303], "the others are not held up"
    clock.advance(seconds=31)
    await sender.send_due()
    assert sorted(_delivered(tg, mark)) == [7301, 7302, 7303]


async def test_a_permanent_refusal_fails_one_row_with_the_token_redacted(
    sender: OutboxSender, tg: FakeTelegram, clock: ManualClock, sessionmaker: Any
) -> None:
    await _queue(sessionmaker, clock, range(7401, 7403))
    tg.fail_next(
        "sendMessage", code=400, description=f"Bad Request: can't parse entities (bot{TOKEN})"
    )
    mark = tg.mark()
    await sender.send_due()
    first, second = await _rows(sessionmaker)
    assert first.status == "failed" and "can't parse entities" in (first.error or "")
    assert TOKEN not in (first.error or "") and "***" in (first.error or "")
    assert second.status == "sent" and _delivered(tg, mark) == [7402]


async def test_an_admin_requeues_a_failed_notice_from_monitor(app, tg: FakeTelegram, clock) -> None:
    async with app.sessionmaker() as session:
        row = await outbox.enqueue(
            session,
            chat_id=7501,
            kind="user.active_changed",
            params={"who": "测试", "active": True},
            now=clock.now(),
        )
        await session.commit()
        assert row is not None
        await outbox.mark_final(
            session, message=row, status=outbox.OutboxStatus.FAILED, now=clock.now(), error="x"
        )
        await session.commit()
    admin = tg.user(ADMIN_ID, "管理员")
    [card] = await admin.send("/monitor")
    assert "发送失败的通知" in card.text and f"#{row.id}" in card.text
    mark = tg.mark()
    await admin.press(card, f"重发 #{row.id}")
    await tg.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == 7501, since=mark)
    async with app.sessionmaker() as session:
        again = await session.get(OutboxMessage, row.id)
        assert again is not None and again.status in ("pending", "sent")
