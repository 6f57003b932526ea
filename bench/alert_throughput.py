"""Alert throughput: 500 queued messages to 50 chats, in several orders, against Telegram's ceiling.

    .venv/bin/python bench/alert_throughput.py [--messages 500] [--chats 50] [--no-old]

The real outbox sender (SQLite database, rendering, row locks, commits) sends through aiogram to
the local fake Bot API, in a process of its own as Telegram would be, whose
:class:`tests.fakes.floodlimit.FloodLimiter` answers 429 to every message over Telegram's
limits (strict sliding windows: 30 in any second overall, one a second
per private chat). For each order of the queue it prints the time from the sender's start to the
last message's arrival, messages per second, the share of Telegram's ceiling reached (ceiling
time = max(N / 30 s, the busiest chat's (n - 1) × 1 s)), the 429s, and whether every chat got
its messages in queue order; then the same for the previous sender (first 100 due rows in queue
order, a message skipped when its chat is paced, 1 s between passes), kept here as the baseline.
Only loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import delete
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.i18n import build_i18n
from bot.outbox import OutboxSender
from bot.pacing import Pacer, RateLimits
from governance.clock import SystemClock
from handlers.notices import RENDERERS
from models import outbox
from models.outbox import OutboxMessage
from tests.bench.legacy_sender import LegacySender
from tests.fakes.floodlimit import FloodLimiter
from tests.fakes.telegram import TOKEN, FakeTelegram

FIRST_CHAT = 700_000


def orders(n: int, chats: int, seed: int = 5) -> dict[str, list[int]]:
    """Destination chat (index) of each message, in queue order."""
    per = n // chats
    rng = random.Random(seed)
    hot = [0] * 16 + [1 + i % (chats - 1) for i in range(n - 16)]
    rng.shuffle(hot)
    return {
        "grouped": [c for c in range(chats) for _ in range(per)],
        "interleaved": [i % chats for i in range(n)],
        "hot + cold": hot,
        "random": [rng.randrange(chats) for _ in range(n)],
    }


def ceiling_seconds(targets: list[int], limits: RateLimits) -> float:
    busiest = max(Counter(targets).values())
    return max(len(targets) / limits.global_per_second, (busiest - 1) * limits.private_interval)


def fake_main(pipe: Any) -> None:
    """The fake Bot API in a process of its own (Telegram is not in the bot's process either):
    answers "status" with what its flood limiter let through, "reset" with a fresh limiter."""

    async def serve() -> None:
        async with FakeTelegram() as tg:
            tg.flood = FloodLimiter()
            pipe.send(tg.base)
            loop = asyncio.get_running_loop()
            while True:
                command = await loop.run_in_executor(None, pipe.recv)
                if command == "stop":
                    return
                if command == "reset":
                    tg.flood, tg.calls = FloodLimiter(), []
                    pipe.send(None)
                    continue
                got: dict[int, list[int]] = defaultdict(list)
                for call in tg.calls:
                    if call.method == "sendMessage" and "message_id" in (call.result or {}):
                        got[int(call.chat_id or 0)].append(int(call.text.split("#")[1]))
                accepted = tg.flood.accepted
                pipe.send(
                    (len(accepted), tg.flood.refused, accepted[-1][0] if accepted else 0, got)
                )

    asyncio.run(serve())


async def _ask(pipe: Any, command: str) -> Any:
    loop = asyncio.get_running_loop()
    pipe.send(command)
    return await loop.run_in_executor(None, pipe.recv)


async def run_once(
    sm: async_sessionmaker[AsyncSession],
    base: str,
    pipe: Any,
    targets: list[int],
    *,
    old: bool,
) -> dict[str, float | int | bool]:
    limits = RateLimits()
    clock = SystemClock()
    await _ask(pipe, "reset")
    async with sm() as session:
        await session.exec(delete(OutboxMessage))
        seq: Counter[int] = Counter()
        for chat in targets:
            seq[chat] += 1
            await outbox.enqueue(
                session,
                chat_id=FIRST_CHAT + chat,
                kind="user.active_changed",
                params={"who": f"#{seq[chat]}#", "active": True},
                now=clock.now(),
            )
        await session.commit()
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(base)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    kind = LegacySender if old else OutboxSender
    sender = kind(
        bot=bot, sessionmaker=sm, clock=clock, i18n=build_i18n(), renderers=RENDERERS,
        pacer=Pacer(limits),
    )  # fmt: skip
    cpu, start = time.process_time(), time.monotonic()
    sender.start()
    deadline = start + 20 * ceiling_seconds(targets, limits) + 30
    while True:
        sent, refused, last, got = await _ask(pipe, "status")
        if sent >= len(targets) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    cpu = time.process_time() - cpu
    await sender.stop()
    await bot.session.close()
    in_order = all(v == sorted(v) and len(v) == len(set(v)) for v in got.values())
    return {
        "seconds": last - start,
        "sent": sent,
        "refused": refused,
        "in_order": in_order,
        "cpu": cpu,
        "ceiling": ceiling_seconds(targets, limits),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--no-old", action="store_true", help="skip the previous sender")
    args = parser.parse_args()
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='alerts-')}/bench.db"
    await db.upgrade(url)
    engine = db.create_engine(url)
    sm = db.make_sessionmaker(engine)
    parent, child = multiprocessing.get_context("spawn").Pipe()
    fake = multiprocessing.get_context("spawn").Process(target=fake_main, args=(child,))
    fake.start()
    base = parent.recv()
    print(
        f"{args.messages} messages to {args.chats} private chats; fake Bot API answers 429 over "
        "30/s overall or 1/s per chat (strict sliding windows); SQLite"
    )
    header = (
        f"{'order':12s} {'ceiling':>8s} | {'product':>8s} {'msg/s':>6s} {'of ceil':>7s} "
        f"{'429':>4s} {'order':>5s} {'CPU s':>6s}"
    )
    if not args.no_old:
        header += f" | {'old':>7s} {'msg/s':>6s} {'of ceil':>7s} {'429':>4s} {'order':>5s}"
    print(header)
    for name, targets in orders(args.messages, args.chats).items():
        new = await run_once(sm, base, parent, targets, old=False)
        line = (
            f"{name:12s} {new['ceiling']:7.1f}s | {new['seconds']:7.1f}s "
            f"{new['sent'] / new['seconds']:6.1f} {new['ceiling'] / new['seconds']:7.0%} "
            f"{new['refused']:4d} {'kept' if new['in_order'] else 'NO':>5s} {new['cpu']:6.1f}"
        )
        if not args.no_old:
            old = await run_once(sm, base, parent, targets, old=True)
            line += (
                f" | {old['seconds']:6.1f}s {old['sent'] / old['seconds']:6.1f} "
                f"{old['ceiling'] / old['seconds']:7.0%} {old['refused']:4d} "
                f"{'kept' if old['in_order'] else 'NO':>5s}"
            )
        print(line, flush=True)
    await engine.dispose()
    parent.send("stop")
    fake.join()


if __name__ == "__main__":
    asyncio.run(main())
