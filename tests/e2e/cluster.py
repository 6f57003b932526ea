"""Several real bot processes (``python -m bot run``) on one PostgreSQL database, for the
replica tests and ``bench/replicas.py``: start, SIGKILL, restart, and read what each logged."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]


def cluster_database_url(base_url: str, suffix: str) -> str:
    """``…/test_replicas`` → ``…/test_replicas_<suffix>`` (the replicas get a database alone)."""
    head, _, name = base_url.rpartition("/")
    return f"{head}/{name.split('?', 1)[0]}_{suffix}"


async def fresh_database(url: str) -> None:
    """Create the database if needed and empty it (the replicas migrate it themselves)."""
    plain = url.replace("postgresql+asyncpg", "postgresql")
    head, _, name = plain.rpartition("/")
    admin = await asyncpg.connect(f"{head}/postgres", timeout=5)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(plain, timeout=5)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


@dataclass
class Replica:
    """One bot process; its log lines are kept and can be waited for."""

    name: str
    env: dict[str, str]
    workdir: Path
    lines: list[str] = field(default_factory=list)
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0
    since: int = 0
    """Index of the first log line of the latest start."""
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.starts += 1
        self.since = len(self.lines)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.workdir,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read(self.proc))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip())
            self._changed.set()
        self._changed.set()  # the process ended: `alive` changes

    async def wait_for_line(self, pattern: str, *, after: int = 0, timeout: float = 60) -> str:
        regex = re.compile(pattern)

        async def found() -> str:
            while True:
                for line in self.lines[after:]:
                    if regex.search(line):
                        return line
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            tail = "\n".join(self.lines[-30:])
            raise AssertionError(
                f"{self.name}: no log line /{pattern}/; last lines:\n{tail}"
            ) from None

    async def wait_started(self, timeout: float = 120) -> None:
        """Until this process (its latest start) says it is up."""

        async def up() -> None:
            while sum("started as replica" in line for line in self.lines) < self.starts:
                self._changed.clear()
                await self._changed.wait()

        try:
            await asyncio.wait_for(up(), timeout)
        except TimeoutError:
            tail = "\n".join(self.lines[-30:])
            raise AssertionError(f"{self.name} did not start; last lines:\n{tail}") from None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def is_leader(self) -> bool:
        """The last leadership line this process logged says it leads now."""
        for line in reversed(self.lines[self.since :]):
            if "lost the polling lock" in line:
                return False
            if "is now the polling leader" in line:
                return True
        return False

    async def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a crashed host or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def stop(self) -> int:
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        return self.proc.returncode or 0


def replica_env(settings: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment without bot settings, plus ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "DATABASE_", "REDIS_", "TELEGRAM_", "POLL", "DIGEST_"))
    }
    env.update(PYTHONPATH=str(ROOT), **settings)
    return env


@dataclass
class Cluster:
    replicas: list[Replica]

    @classmethod
    def of(cls, count: int, *, settings: Mapping[str, str], workdir: Path) -> Cluster:
        return cls(
            [
                Replica(
                    f"r{i}", replica_env({**settings, "REPLICA_NAME": f"r{i}"}), workdir=workdir
                )
                for i in range(count)
            ]
        )

    async def start(self) -> None:
        for replica in self.replicas:
            await replica.start()
        await asyncio.gather(*(r.wait_started() for r in self.replicas))

    async def leader(self, *, timeout: float = 30) -> Replica:
        async def one() -> Replica:
            while True:
                for replica in self.replicas:
                    replica._changed.clear()
                leaders = [r for r in self.replicas if r.alive and r.is_leader()]
                if len(leaders) == 1:
                    return leaders[0]
                await self.any_line()

        return await asyncio.wait_for(one(), timeout)

    async def any_line(self) -> None:
        """Until any replica logs a line (or its output ends); clear their events first."""
        waits = [asyncio.ensure_future(r._changed.wait()) for r in self.replicas]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def stop(self) -> list[int]:
        return list(await asyncio.gather(*(r.stop() for r in self.replicas)))
