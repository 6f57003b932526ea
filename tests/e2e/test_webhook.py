"""Webhook mode: the fake Bot API pushes updates over HTTP to the real bot's aiohttp app."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.app import BotApp
from governance.clock import ManualClock
from models import webhook as inbox
from tests.conftest import ADMIN_ID, make_settings
from tests.fakes.telegram import FakeTelegram

SECRET = "s3cret-Webhook_token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def hooked(database_url: str, tg: FakeTelegram, clock: ManualClock) -> AsyncIterator[BotApp]:
    port = free_port()
    settings = make_settings(
        database_url,
        tg.base,
        bot_mode="webhook",
        webhook_url=f"http://127.0.0.1:{port}/tg/hook",
        webhook_secret=SECRET,
        webhook_listen=f"127.0.0.1:{port}",
        webhook_max_body_bytes=20_000,
    )
    app = BotApp(settings, clock=clock, migrate=False)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def _rows(app: BotApp) -> list[inbox.WebhookUpdate]:
    assert app.sessionmaker is not None
    async with app.sessionmaker() as session:
        return list((await session.exec(sa.select(inbox.WebhookUpdate))).scalars())  # type: ignore[call-overload]


def _start_update(update_id: int, user_id: int = ADMIN_ID) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 5,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "王主任"},
            "from": {"id": user_id, "is_bot": False, "first_name": "王主任"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_webhook_mode_registers_the_webhook_and_answers_pushed_updates(
    hooked: BotApp, tg: FakeTelegram
) -> None:
    registered = await tg.wait_for(lambda c: c.method == "setWebhook")
    assert registered.params["url"] == tg.webhook_url
    assert registered.params["secret_token"] == SECRET

    replies = await tg.user(ADMIN_ID, "王主任").send("/start")

    assert "管理员" in replies[-1].text
    assert all(status == 200 for _, status in tg.pushes)
    assert not [c for c in tg.calls if c.method == "getUpdates"]
    rows = await _rows(hooked)
    assert len(rows) == 1 and rows[0].processed_at is not None


@pytest.mark.parametrize("secret", [None, "wrong-secret"])
async def test_a_push_without_the_right_secret_is_refused_and_nothing_is_processed(
    hooked: BotApp, tg: FakeTelegram, secret: str | None
) -> None:
    await tg.wait_for(lambda c: c.method == "setWebhook")
    mark = tg.mark()

    status = await tg.push(_start_update(900), secret=secret)

    assert status == 401
    assert await _rows(hooked) == []
    # The same update with the right secret is processed: the refusal changed nothing.
    assert await tg.push(_start_update(901), secret=SECRET) == 200
    reply = await tg.wait_for(lambda c: c.method == "sendMessage", since=mark)
    assert reply.chat_id == ADMIN_ID
    assert tg.sent_to(ADMIN_ID, since=mark) == [reply]


async def test_an_oversized_or_malformed_push_is_refused(hooked: BotApp, tg: FakeTelegram) -> None:
    await tg.wait_for(lambda c: c.method == "setWebhook")
    huge = _start_update(902)
    huge["message"]["text"] = "x" * 30_000  # type: ignore[index]

    assert await tg.push(huge, secret=SECRET) == 413
    assert await tg.push(b"not json", secret=SECRET) == 400
    assert await _rows(hooked) == []


async def test_a_redelivered_update_is_processed_once(hooked: BotApp, tg: FakeTelegram) -> None:
    await tg.wait_for(lambda c: c.method == "setWebhook")
    mark = tg.mark()

    assert await tg.push(_start_update(903), secret=SECRET) == 200
    await tg.wait_for(lambda c: c.method == "sendMessage", since=mark)
    assert await tg.push(_start_update(903), secret=SECRET) == 200
    assert hooked.webhook is not None
    await hooked.webhook.close()  # waits for anything still processing

    assert len(tg.sent_to(ADMIN_ID, since=mark)) == 1
    assert len(await _rows(hooked)) == 1


async def test_an_update_recorded_but_not_processed_before_a_crash_is_processed_later(
    hooked: BotApp, tg: FakeTelegram, clock: ManualClock
) -> None:
    """The replica died after answering 200: its claim expires and the sweeper takes over."""
    await tg.wait_for(lambda c: c.method == "setWebhook")
    assert hooked.sessionmaker is not None and hooked.webhook is not None
    async with hooked.sessionmaker() as session:
        await inbox.record(
            session,
            update_id=904,
            payload=json.dumps(_start_update(904)),
            now=clock.now(),
            lease=timedelta(seconds=60),
        )
        await session.commit()
    mark = tg.mark()

    assert await hooked.webhook.sweep() == 0  # still claimed by the "dead" replica
    clock.advance(timedelta(seconds=61))
    assert await hooked.webhook.sweep() == 1

    reply = await tg.wait_for(lambda c: c.method == "sendMessage", since=mark)
    assert reply.chat_id == ADMIN_ID
    await hooked.webhook.close()
    [row] = await _rows(hooked)
    assert row.processed_at is not None and row.attempts == 2


async def test_stopping_deletes_the_webhook(
    database_url: str, tg: FakeTelegram, clock: ManualClock
) -> None:
    port = free_port()
    settings = make_settings(
        database_url,
        tg.base,
        bot_mode="webhook",
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_secret=SECRET,
        webhook_listen=f"127.0.0.1:{port}",
        webhook_drop_pending=True,
    )
    app = BotApp(settings, clock=clock, migrate=False)
    await app.start()
    registered = await tg.wait_for(lambda c: c.method == "setWebhook")
    assert str(registered.params["drop_pending_updates"]).lower() == "true"
    await app.stop()
    await tg.wait_for(lambda c: c.method == "deleteWebhook")
    assert tg.webhook_url is None


async def test_polling_mode_removes_a_webhook_left_from_a_webhook_run(
    database_url: str, tg: FakeTelegram, clock: ManualClock
) -> None:
    tg.webhook_url = "https://old.example/hook"  # getUpdates would answer 409 while it is set
    app = BotApp(make_settings(database_url, tg.base), clock=clock, migrate=False)
    await app.start()
    try:
        replies = await tg.user(ADMIN_ID, "王主任").send("/start")
    finally:
        await app.stop()

    assert "管理员" in replies[-1].text
    assert [c for c in tg.calls if c.method == "deleteWebhook"]
