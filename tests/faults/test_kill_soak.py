"""kill -9 soak: the real bot process (``python -m bot run``) is killed at random moments while it
sends queued alerts and polls feeds, restarted, killed again (≥ 20 times), then left to finish.
Every alert arrives (0 lost); an alert is sent twice only when a kill fell between Telegram's
answer and the commit that records it (≤ 1 duplicate per kill).

Long (about a minute per database), so it runs only with ``RELIABILITY_SOAK=1``::

    RELIABILITY_SOAK=1 TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/<db> \\
        .venv/bin/python -m pytest tests/faults/test_kill_soak.py -m soak -s

It prints one line of figures per database; ``docs/reliability.md`` records them.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot import db
from governance.clock import ManualClock
from governance.roles import Role
from models import outbox
from models.outbox import OutboxMessage, OutboxStatus
from tests.conftest import ADMIN_ID
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes import FeedServer
from tests.fakes.telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
ALERTS = 600
KILLS = int(os.environ.get("RELIABILITY_SOAK_KILLS", "24"))
FIRST_CHAT = 100_000

pytestmark = [
    pytest.mark.soak,
    pytest.mark.skipif(
        os.environ.get("RELIABILITY_SOAK") != "1", reason="kill -9 soak: set RELIABILITY_SOAK=1"
    ),
]


def _env(database_url: str, api_base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "TEST_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        ADMIN_IDS=str(ADMIN_ID),
        DATABASE_URL=database_url,
        TELEGRAM_API_BASE=api_base,
        LOG_LEVEL="WARNING",
        OUTBOX_INTERVAL="0.05",
        POLLING_TIMEOUT="1",
        POLL_TICK_SECONDS="2",
        POLL_HOST_SPACING_MS="0",
        FEED_PARSE_WORKERS="0",
        ALLOW_PRIVATE_FEEDS="true",
        REDIS_URL="",
    )
    return env


async def _seed(database_url: str, feeds: FeedServer) -> None:
    """600 queued alerts to 600 chats, and 20 accounts whose feeds the poller fetches meanwhile."""
    clock = ManualClock()
    engine = db.create_engine(database_url)
    sessionmaker = db.make_sessionmaker(engine)
    try:
        now = clock.now()
        unit = await seed_unit(sessionmaker, "某街道办", now)
        await seed_person(
            sessionmaker,
            telegram_id=ADMIN_ID,
            name="管理员",
            unit_id=None,
            roles=(Role.ADMIN,),
            now=now,
        )
        person = await seed_person(
            sessionmaker,
            telegram_id=5001,
            name="责任人",
            unit_id=unit,
            roles=(Role.EDITOR,),
            now=now,
        )
        for n in range(20):
            await seed_account(
                sessionmaker,
                admin_telegram_id=ADMIN_ID,
                unit_id=unit,
                responsible_id=person,
                name=f"账号{n}",
                feed_url=feeds.feed_url("rss") + f"?n={n}",
                now=now,
            )
        async with sessionmaker() as session:
            for i in range(ALERTS):
                await outbox.enqueue(
                    session,
                    chat_id=FIRST_CHAT + i,
                    kind="user.active_changed",
                    params={"who": f"告警{i}", "active": True},
                    now=now,
                )
            await session.commit()
    finally:
        await engine.dispose()


async def _pending(database_url: str) -> int:
    engine = db.create_engine(database_url)
    try:
        async with db.make_sessionmaker(engine)() as session:
            result = await session.exec(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status != OutboxStatus.SENT.value)
            )
            return int(result.one())
    finally:
        await engine.dispose()


def _deliveries(tg: FakeTelegram) -> collections.Counter[int]:
    return collections.Counter(
        c.chat_id or 0
        for c in tg.calls
        if c.method == "sendMessage"
        and (c.chat_id or 0) >= FIRST_CHAT
        and "message_id" in (c.result or {})
    )


@pytest.mark.timeout(900)
async def test_kill_9_while_sending_loses_no_alert_and_duplicates_at_most_one_per_kill(
    database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    rng = random.Random(int(os.environ.get("RELIABILITY_SOAK_SEED", "20261201")))
    async with FeedServer() as feeds:
        await _seed(database_url, feeds)
        env = _env(database_url, tg.base)
        started = time.monotonic()
        kills = 0
        while kills < KILLS:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env
            )
            before = sum(_deliveries(tg).values())
            # wait until this run is sending, then kill it at a random moment
            await tg.wait_for(
                lambda c: c.method == "sendMessage" and (c.chat_id or 0) >= FIRST_CHAT,
                since=len(tg.calls),
                timeout=60,
            )
            await asyncio.sleep(rng.uniform(0.0, 0.6))
            process.send_signal(signal.SIGKILL)
            await process.wait()
            kills += 1
            if sum(_deliveries(tg).values()) == before:
                continue
            if await _pending(database_url) == 0:
                break
        assert kills >= KILLS, f"only {kills} kills happened before everything was sent"
        # a last run finishes the backlog
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env
        )
        try:
            for _ in range(600):
                if await _pending(database_url) == 0:
                    break
                await asyncio.sleep(0.2)
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
        elapsed = time.monotonic() - started

    deliveries = _deliveries(tg)
    lost = [FIRST_CHAT + i for i in range(ALERTS) if deliveries[FIRST_CHAT + i] == 0]
    duplicates = sum(n - 1 for n in deliveries.values() if n > 1)
    backend = database_url.split(":", 1)[0]
    print(
        f"\nsoak {backend}: {kills} kills, {ALERTS} alerts, {len(lost)} lost, "
        f"{duplicates} duplicates, {elapsed:.0f} s"
    )
    assert await _pending(database_url) == 0
    assert lost == []
    assert duplicates <= kills
