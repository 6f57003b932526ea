"""Parsing off the event loop: worker processes (both cores) or threads.

feedparser is pure Python and holds the GIL, so threads keep the loop responsive but give no
parallelism; a small process pool uses the second core of the production machine. The pool is
created lazily on first use (with ``spawn``: forking a process that runs an event loop and
resolver threads is unsafe) and closed with the app.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from feeds.feedparse import ParsedFeed, parse_feed


def parse_for_storage(body: bytes, headers: dict[str, str], first_seen: datetime) -> ParsedFeed:
    """:func:`parse_feed` with positional arguments, for the executor. The items keep their
    raw HTML: the content checks look for hidden and off-list links in it."""
    return parse_feed(body, headers, first_seen=first_seen)


class FeedParser:
    """``await parser.parse(body, headers, first_seen=...)`` in a worker; ``workers=0``: threads."""

    def __init__(self, *, workers: int = 0) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def parse(
        self, body: bytes, headers: dict[str, str], *, first_seen: datetime
    ) -> ParsedFeed:
        if self.workers <= 0:
            return await asyncio.to_thread(parse_for_storage, body, headers, first_seen)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, parse_for_storage, body, headers, first_seen)

    def worker_pids(self) -> list[int]:
        """Pids of live worker processes (for memory figures)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
