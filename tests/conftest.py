"""Shared fixtures: a migrated database (SQLite always, PostgreSQL when TEST_DATABASE_URL
points at one), the manual clock, the fake Telegram server and the real bot running against it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.app import BotApp
from bot.settings import Settings
from governance.clock import ManualClock
from tests.fakes.feeds import FeedServer
from tests.fakes.telegram import TOKEN, FakeTelegram

ADMIN_ID = 1001
BASE_PG_URL = os.environ.get("TEST_DATABASE_URL", "")
#: pytest-xdist runs workers side by side: each gets a database of its own, named after the
#: configured one (``test`` → ``test_gw0``, ``test_gw1``, …), created on first use.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_url(url: str) -> str:
    if not (WORKER and url.startswith("postgresql")):
        return url
    parsed = sa.engine.make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


PG_URL = _worker_url(BASE_PG_URL)


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg", "postgresql")


def _pg_available() -> bool:
    if not PG_URL.startswith("postgresql"):
        return False
    import asyncpg

    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(_dsn(BASE_PG_URL), timeout=3)
        except (OSError, asyncpg.PostgresError):
            return False
        try:
            if PG_URL != BASE_PG_URL:
                name = sa.engine.make_url(PG_URL).database
                exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
                if not exists:
                    await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return True

    return asyncio.run(probe())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate once; every test gets a copy of the migrated file."""
    path = tmp_path_factory.mktemp("template") / "bot.db"
    db.upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    if not _pg_available():
        pytest.skip("PostgreSQL not available (set TEST_DATABASE_URL)")
    import asyncpg

    async def reset() -> None:
        conn = await asyncpg.connect(_dsn(PG_URL))
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    asyncio.run(reset())
    db.upgrade_sync(PG_URL)
    return PG_URL


BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--every-backend",
        action="store_true",
        help="run every database test on PostgreSQL too, not only the both_backends ones",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "both_backends: the test depends on the SQL dialect (migrations, locking, concurrency, "
        "upserts, JSON, date arithmetic, transactions): run it on SQLite and PostgreSQL",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Database tests run on SQLite; those marked ``both_backends`` on PostgreSQL as well."""
    if "database_url" not in metafunc.fixturenames:
        return
    every = metafunc.config.getoption("--every-backend")
    both = every or metafunc.definition.get_closest_marker("both_backends") is not None
    metafunc.parametrize("database_url", BACKENDS if both else BACKENDS[:1], indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "bot.db"
        shutil.copy(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = request.getfixturevalue("pg_migrated")

    async def truncate() -> None:
        engine = db.create_engine(url)
        async with engine.begin() as conn:
            tables = ", ".join(
                t.name
                for t in db.models.metadata.sorted_tables  # type: ignore[attr-defined]
            )
            await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())
    yield url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def sessionmaker(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(database_url)
    yield db.make_sessionmaker(engine)
    await engine.dispose()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def make_settings(database_url: str, api_base: str, **extra: object) -> Settings:
    values: dict[str, object] = {
        "bot_token": TOKEN,
        "admin_ids": [ADMIN_ID],
        "database_url": database_url,
        "telegram_api_base": api_base,
        "polling_timeout": 1,
        "outbox_interval": 0.05,
        # The manual clock stands still, so Telegram's pacing would hold every second message
        # to a chat for good; tests/bot/test_outbox_sender.py checks the pacing itself.
        "outbox_per_second": 1_000_000,
        "outbox_private_interval": 0,
        "outbox_group_per_minute": 1_000_000,
        "allow_private_feeds": True,
        "allow_private_links": True,
        "allow_private_robots": True,  # the fake group robots listen on loopback
        "feed_check_timeout": 5,
        "redis_url": None,
        "alert_chat_id": None,
        # Jobs are driven by the tests (with the manual clock), not by the scheduler's timers;
        # feeds come from one local server, so per-host spacing would only slow tests down.
        "poll_tick_seconds": 3600,
        "evaluate_minutes": 600,
        "poll_host_spacing_ms": 0,
        "feed_parse_workers": 0,
        "website_probe_tick_seconds": 3600,
        "website_column_tick_seconds": 3600,
        "website_evaluate_minutes": 600,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, tg: FakeTelegram) -> Settings:
    return make_settings(database_url, tg.base)


async def start_bot(tg: FakeTelegram, settings: Settings, clock: ManualClock) -> BotApp:
    """Start the real bot against ``tg``; the fake's ``settle()`` then waits on its idle signal."""
    bot_app = BotApp(settings, clock=clock, migrate=False)
    await bot_app.start()
    tg.bot_idle = bot_app.idle
    return bot_app


@pytest.fixture
async def app(settings: Settings, clock: ManualClock, tg: FakeTelegram) -> AsyncIterator[BotApp]:
    """The real bot, polling the fake Telegram server."""
    bot_app = await start_bot(tg, settings, clock)
    try:
        yield bot_app
    finally:
        await bot_app.stop()


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server
