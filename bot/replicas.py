"""Several copies of the bot on one PostgreSQL: who polls Telegram, and one chat at a time.

- :class:`PollingLeader`: in polling mode exactly one replica calls ``getUpdates`` (Telegram
  answers 409 to a second caller). Leadership is a PostgreSQL session-level advisory lock held
  on a dedicated connection: ``pg_try_advisory_lock`` wins it, the connection's end (a crash,
  SIGKILL, a lost network) releases it, and a standby trying every ``LEADER_RETRY_SECONDS``
  takes over. The leader checks its connection as often and stops polling the moment it is
  gone, so two replicas never poll for longer than one check.
- :class:`DatabaseEventIsolation`: aiogram's events isolation backed by PostgreSQL advisory
  locks, one per chat/user key (without Redis): updates of one chat are handled one at a time
  and in the order they reached the database, whichever replica got them.
- :class:`SqliteGuard`: SQLite is for one process; a second replica on the same file refuses to
  start with a clear message (an exclusive lock file beside the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey
from filelock import FileLock, Timeout
from loguru import logger
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from governance.errors import ConfigurationError


class Role(StrEnum):
    """What this replica does with Telegram updates."""

    SINGLE = "single"  # SQLite: the one process
    LEADER = "leader"  # polling mode: the replica that calls getUpdates
    FOLLOWER = "follower"  # polling mode: standing by to take over
    WEBHOOK = "webhook"  # webhook mode: every replica takes what Telegram posts to it
    JOBS = "jobs"  # REPLICA_DUTIES=jobs: takes no updates at all


def replica_name(configured: str | None) -> str:
    return configured or f"{socket.gethostname()}:{os.getpid()}"


def advisory_key(text: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` from a name."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def sqlite_path(database_url: str) -> Path | None:
    """The database file of a SQLite URL (``None`` for PostgreSQL or an in-memory database)."""
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.split(":///", 1)[-1].split("?", 1)[0]
    return None if not path or path == ":memory:" else Path(path)


class SqliteGuard:
    """An exclusive lock on ``<database>.lock`` for as long as the process runs."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._lock = FileLock(self.path, timeout=0)

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire()
        except Timeout:
            raise ConfigurationError(
                f"SQLite 数据库 {self.database} 已被另一个机器人进程使用（锁文件 {self.path}）。"
                "SQLite 只支持单个进程：请先停止那个进程；要同时运行多个副本，"
                "请把 DATABASE_URL 改为 PostgreSQL。"
            ) from None

    def release(self) -> None:
        self._lock.release()


class PollingLeader:
    """Run ``poll`` only while this replica holds the polling lock; step down when it is lost.

    ``poll`` runs long polling until ``stop_poll`` is awaited; both come from the dispatcher.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        key: int,
        name: str,
        retry: float,
        poll: Callable[[], Coroutine[Any, Any, None]],
        stop_poll: Callable[[], Awaitable[None]],
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.engine, self.key, self.name, self.retry = engine, key, name, retry
        self.poll, self.stop_poll = poll, stop_poll
        self.on_change = on_change
        """Called after each try for the lock and each change of role (metrics, tests)."""
        self.role = Role.FOLLOWER
        self.terms = 0
        """How many times this replica became the leader."""
        self.attempts = 0
        """How many times this replica tried for the lock."""
        self._conn: AsyncConnection | None = None

    async def run(self) -> None:
        """Until cancelled: wait for the lock, poll while holding it, and again after a loss."""
        try:
            while True:
                try:
                    won = await self._acquire()
                except Exception:  # a standby that stops trying would never lead again
                    logger.exception("replica {}: trying for the polling lock failed", self.name)
                    await self._drop()
                    won = False
                self.attempts += 1
                if not won:
                    self._changed()
                    await asyncio.sleep(self.retry)
                    continue
                self.role, self.terms = Role.LEADER, self.terms + 1
                self._changed()
                logger.info("replica {} is now the polling leader", self.name)
                polling = asyncio.create_task(self.poll(), name="polling")
                watch = asyncio.create_task(self._watch(), name="polling-leader-watch")
                done, _ = await asyncio.wait({polling, watch}, return_when=asyncio.FIRST_COMPLETED)
                if polling in done:  # stopped on purpose (shutdown), or polling failed
                    watch.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watch
                    await self._release()
                    polling.result()
                    return
                logger.warning("replica {} lost the polling lock; standing by", self.name)
                self.role = Role.FOLLOWER
                self._changed()
                with contextlib.suppress(RuntimeError):
                    await self.stop_poll()
                with contextlib.suppress(Exception):
                    await polling
                await self._drop()
        finally:
            self.role = Role.FOLLOWER
            self._changed()
            await self._drop()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    async def _acquire(self) -> bool:
        try:
            conn = await self.engine.connect()
        except (OSError, sa.exc.SQLAlchemyError) as exc:
            logger.warning("polling leader: database unreachable ({})", type(exc).__name__)
            return False
        try:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            # a peer that vanishes without closing its socket is noticed by the server in ~25 s
            for setting in (
                "tcp_keepalives_idle = 10",
                "tcp_keepalives_interval = 5",
                "tcp_keepalives_count = 3",
            ):
                await conn.execute(sa.text(f"SET {setting}"))
            won = (
                await conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
            ).scalar_one()
        except (OSError, sa.exc.SQLAlchemyError):
            with contextlib.suppress(OSError, sa.exc.SQLAlchemyError):
                await conn.invalidate()
                await conn.close()
            return False
        if not won:
            with contextlib.suppress(OSError, sa.exc.SQLAlchemyError):
                await conn.close()
            return False
        self._conn = conn
        return True

    async def _watch(self) -> None:
        """Return when the connection that holds the lock is gone (or stops answering)."""
        assert self._conn is not None
        while True:
            await asyncio.sleep(self.retry)
            try:
                await asyncio.wait_for(self._conn.execute(sa.text("SELECT 1")), self.retry * 2)
            except (OSError, TimeoutError, sa.exc.SQLAlchemyError):
                return

    async def _release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, sa.exc.SQLAlchemyError):
                await self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError, sa.exc.SQLAlchemyError):
                await conn.invalidate()  # never hand a lock-holding connection back to the pool
                await conn.close()


class DatabaseEventIsolation(BaseEventIsolation):
    """One update per chat/user key at a time across replicas: a PostgreSQL advisory lock.

    The locks live on connections of their own small engine, so a handler waiting for its
    chat's turn never takes a connection the handlers that hold a turn need. PostgreSQL queues
    waiters on one lock first come, first served; a replica that dies releases its locks.
    """

    def __init__(self, database_url: str, *, pool_size: int = 20) -> None:
        from bot import db

        self.engine = db.create_engine(database_url, pool_size=pool_size, max_overflow=0)

    @contextlib.asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock_key = advisory_key(
            f"update:{key.bot_id}:{key.chat_id}:{key.user_id}:{key.thread_id}"
            f":{key.business_connection_id}"
        )
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": lock_key})
            try:
                yield
            finally:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key})

    async def close(self) -> None:
        await self.engine.dispose()
