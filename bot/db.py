"""Database engine, sessions and migrations.

SQLite (aiosqlite) is the embedded default and needs no setup; PostgreSQL (asyncpg) is used
when ``DATABASE_URL`` says so. The schema is created and changed only by Alembic migrations.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

import models  # noqa: F401  (registers every table)

#: Alembic's scripts as a package resource, so an installed (non-editable) copy can migrate too.
SCRIPT_LOCATION = "bot:migrations"
#: The advisory lock replicas take turns on while migrating (an arbitrary constant).
MIGRATION_LOCK = 0x676F_765F_6D69_6772


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 10,
    ping_idle: float | None = None,
) -> AsyncEngine:
    """An engine tuned per backend: SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=max_overflow)
    _ping_when_idle(engine, PING_IDLE_SECONDS if ping_idle is None else ping_idle)
    return engine


PING_IDLE_SECONDS = 5.0
"""A pooled connection idle longer than this is pinged before use (PostgreSQL)."""


def _ping_when_idle(engine: AsyncEngine, idle: float) -> None:
    """SQLAlchemy's pessimistic disconnect check (the ``checkout`` event of its "Dealing with
    Disconnects" recipe), only for connections that sat idle in the pool.

    ``pool_pre_ping`` pinged on every checkout, and asyncpg's ping outside a transaction is
    three round trips (BEGIN, an empty query, ROLLBACK): with a session checking out two or three
    times an update, that was a third of a reply's round trips. A connection back from use a
    moment ago is as good as its last statement; one that died since (a server restart) fails
    that statement as a disconnect, and SQLAlchemy then replaces every connection in the pool.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is not None and time.monotonic() - since < idle:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:  # the pool discards it and tries a fresh connection
            raise sa.exc.DisconnectionError("the pooled connection is gone") from exc


def make_sessionmaker(
    engine: AsyncEngine, *, durable: bool = True
) -> async_sessionmaker[AsyncSession]:
    """Sessions on ``engine``. ``durable=False`` (the scheduled jobs'; PostgreSQL): commits do
    not wait for the write-ahead log to reach the disk (``synchronous_commit`` off in each of
    their transactions). A poll cycle commits thousands of batches; each waited for a flush,
    and the chat's commits queued behind those flushes. What a server crash can lose is the
    last fraction of a second of job transactions, whole and in order: every job is built to
    be run again (idempotent writes, leases, dedup keys), and its next run redoes them. The
    chat, the outbox sender and /check keep durable sessions."""
    if durable or engine.dialect.name != "postgresql":
        return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    return async_sessionmaker(
        engine, class_=AsyncSession, expire_on_commit=False, sync_session_class=_JobSession
    )


class _JobSession(Session):
    """A session whose transactions commit without waiting for the disk (PostgreSQL)."""


@event.listens_for(_JobSession, "after_begin")
def _relax_commit(_session: Session, _transaction: Any, connection: sa.Connection) -> None:
    connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "%%(rev)s")
    config.set_main_option("revision_environment", "true")
    config.attributes["database_url"] = url
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations; Alembic runs its own event loop, so it gets a thread.

    On PostgreSQL replicas starting together take turns (an advisory lock held meanwhile): the
    first migrates, the others find the schema at head.
    """
    if not url.startswith("postgresql"):
        await asyncio.to_thread(upgrade_sync, url, revision)
        return
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            try:
                await asyncio.to_thread(upgrade_sync, url, revision)
            finally:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
    finally:
        await engine.dispose()


def head_revision() -> str:
    """The revision the code expects (the newest migration shipped)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("unused://")).get_current_head() or ""


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("unused://"))
    return {r.revision for r in script.walk_revisions()}


async def current_revision(engine: AsyncEngine) -> str | None:
    """The database's revision (old ids translated), or None for an empty database.

    Raises what the driver raises when the database cannot be reached.
    """
    from bot.migrations import LEGACY_REVISIONS, VERSION_TABLE

    async with engine.connect() as conn:
        has_table = await conn.run_sync(lambda c: sa.inspect(c).has_table(VERSION_TABLE))
        if not has_table:
            return None
        value = (await conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalar()
    if value is None:
        return None
    return LEGACY_REVISIONS.get(str(value), str(value))
