"""Webhook answer latency: "record, answer, then process" against processing inside the request.

    .venv/bin/python bench/webhook_ack.py --updates 300
    .venv/bin/python bench/webhook_ack.py --updates 300 --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench

The real bot runs in webhook mode against the local fake Bot API, which pushes ``/start`` from
distinct users (each handler reads and writes the database and answers with sendMessage). For
each push we time the HTTP answer Telegram would wait for, and the time until the bot's reply
reached the fake API. The baseline is the same bot with aiogram's ``SimpleRequestHandler`` in
its ``handle_in_background=False`` mode (the update is processed before the answer; nothing is
recorded). Pushes are sequential (as Telegram delivers one chat's updates). Loopback only.

``--api-delay-ms`` makes the fake Bot API answer the bot's own requests that much later, as a
Bot API reached through a proxy from far away does (a few hundred ms per call is common).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot import db
from bot.app import BotApp
from bot.settings import Settings
from governance.clock import ManualClock
from tests.fakes.telegram import TOKEN, FakeTelegram

SECRET = "bench-secret"


class SlowTelegram(FakeTelegram):
    """The fake Bot API, answering the bot's requests after a fixed delay."""

    delay: float = 0.0

    async def _handle(self, request: web.Request) -> web.Response:
        if self.delay and request.match_info["method"] != "getUpdates":
            await asyncio.sleep(self.delay)
        return await super()._handle(request)


class InRequestBotApp(BotApp):
    """The baseline: aiogram's handler processing each update before answering."""

    async def start_webhook(self) -> None:
        assert self.dp is not None and self.bot is not None and self.web is not None
        settings = self.settings
        assert settings.webhook_url is not None
        handler = SimpleRequestHandler(
            self.dp, self.bot, handle_in_background=False, secret_token=SECRET
        )
        handler.close = _noop  # type: ignore[method-assign]  # the app closes the bot session
        handler.register(self.web.app, path=settings.webhook_path)
        setup_application(self.web.app, self.dp, bot=self.bot)
        await self.web.start()
        await self.bot.set_webhook(settings.webhook_url, secret_token=SECRET)


async def _noop() -> None:
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _fresh_database(url: str | None, directory: Path, name: str) -> str:
    if url is None:
        sqlite = f"sqlite+aiosqlite:///{directory}/{name}.db"
        await db.upgrade(sqlite)
        return sqlite
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    await db.upgrade(url)
    return url


async def _run(
    app_class: type[BotApp], updates: int, url: str, delay: float
) -> tuple[list[float], list[float]]:
    async with SlowTelegram() as tg:
        tg.delay = delay
        port = _free_port()
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=TOKEN,
            database_url=url,
            telegram_api_base=tg.base,
            bot_mode="webhook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            webhook_secret=SECRET,
            webhook_listen=f"127.0.0.1:{port}",
            poll_tick_seconds=3600,
            evaluate_minutes=600,
            feed_parse_workers=0,
            outbox_interval=0.05,
        )
        app = app_class(settings, clock=ManualClock(), migrate=False)
        await app.start()
        acks: list[float] = []
        replies: list[float] = []
        try:
            await tg.wait_for(lambda c: c.method == "setWebhook", timeout=30)
            for n in range(updates):
                user = 500_000 + n
                update = {
                    "update_id": 10_000 + n,
                    "message": {
                        "message_id": n + 1,
                        "date": 1_700_000_000,
                        "chat": {"id": user, "type": "private", "first_name": "测"},
                        "from": {"id": user, "is_bot": False, "first_name": "测"},
                        "text": "/start",
                        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                    },
                }
                mark = tg.mark()
                started = time.perf_counter()
                status = await tg.push(update, secret=SECRET)
                acks.append(time.perf_counter() - started)
                assert status == 200, status
                await tg.wait_for(
                    lambda c, u=user: c.method == "sendMessage" and c.chat_id == u,
                    since=mark,
                    timeout=30,
                )
                replies.append(time.perf_counter() - started)
        finally:
            await app.stop()
    return acks, replies


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--db", default=None, help="a PostgreSQL URL (default: SQLite files)")
    parser.add_argument("--api-delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for label, app_class in (
            ("record, answer, process", BotApp),
            ("in-request", InRequestBotApp),
        ):
            url = await _fresh_database(args.db, Path(tmp), label.split(",")[0].replace(" ", "_"))
            acks, replies = await _run(app_class, args.updates, url, args.api_delay_ms / 1000)
            print(
                f"{label:<24} answer p50 {_ms(acks, 0.5):6.1f} ms  p95 {_ms(acks, 0.95):6.1f} ms"
                f"  | reply seen p50 {_ms(replies, 0.5):6.1f} ms  p95 {_ms(replies, 0.95):6.1f} ms"
                f"  (n={len(acks)}, mean answer {1000 * statistics.mean(acks):.1f} ms)"
            )


if __name__ == "__main__":
    asyncio.run(main())
