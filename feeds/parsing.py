"""Parsing off the event loop: the fast path in a thread, feedparser in worker processes (both
cores) or threads.

feedparser is pure Python and holds the GIL, so threads keep the loop responsive but give no
parallelism; a small process pool uses the second core of the production machine. The pool is
created lazily on first use (with ``spawn``: forking a process that runs an event loop and
resolver threads is unsafe) and closed with the app.

A parse has a time limit. A worker process that exceeds it is killed and the pool recycled (the
next parse gets a fresh one); the caller gets :class:`ParseTimeout` and records the feed as
``too_large``, so it backs off like any failing feed. A thread cannot be killed: in thread mode
the caller still gets its answer on time, and the item cap bounds what the thread goes on doing.
The fast path (:mod:`feeds.fastparse`) has no time limit of its own: strict lxml and the native
extractor are linear over a body the fetcher already capped at ``FEED_MAX_BYTES``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from loguru import logger

from feeds.fastparse import parse_feed_fast_first, try_fast
from feeds.feedparse import ParsedFeed, parse_feed


def parse_for_storage(
    body: bytes,
    headers: dict[str, str],
    first_seen: datetime,
    fast: bool = True,
    defer_text: bool = False,
) -> ParsedFeed:
    """:func:`parse_feed` with positional arguments, for the executor. The items keep their
    raw HTML: the content checks look for hidden and off-list links in it. ``fast``: try
    fastfeedparser behind its guard first (:mod:`feeds.fastparse`); feedparser otherwise.
    ``defer_text``: see :meth:`feeds.feedparse.ParsedItem.finish_text`."""
    if fast:
        return parse_feed_fast_first(body, headers, first_seen=first_seen, defer_text=defer_text)
    return parse_feed(body, headers, first_seen=first_seen, defer_text=defer_text)


#: Seconds one parse may take before its worker is killed.
PARSE_TIMEOUT = 20.0


class ParseTimeout(Exception):
    """A parse took longer than the parser's time limit (its worker was killed)."""


class FeedParser:
    """``await parser.parse(body, headers, first_seen=...)`` in a worker; ``workers=0``: threads.
    ``fast=False`` keeps to feedparser (the reference). ``nice``: CPU priority the worker
    processes give up, so that the chat's replies go first on a shared machine."""

    def __init__(
        self,
        *,
        workers: int = 0,
        timeout: float = PARSE_TIMEOUT,
        fast: bool = True,
        nice: int = 0,
    ) -> None:
        self.workers = workers
        self.nice = nice
        self.fast = fast
        self.timeout = timeout
        self._pool: ProcessPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None

    async def parse(
        self,
        body: bytes,
        headers: dict[str, str],
        *,
        first_seen: datetime,
        defer_text: bool = False,
    ) -> ParsedFeed:
        """The fast path in a thread of this process (≈ 0.5 ms of C-heavy work: a round trip
        to a worker process would cost more than the parse), feedparser where it declines.
        ``defer_text``: HTML bodies' text is left to ``ParsedItem.finish_text`` (the poller
        extracts it for new items only)."""
        if self.fast:
            parsed = await asyncio.to_thread(
                try_fast, body, headers, first_seen=first_seen, defer_text=defer_text
            )
            if parsed is not None:
                return parsed
        return await self._reference(body, headers, first_seen=first_seen, defer_text=defer_text)

    async def _reference(
        self, body: bytes, headers: dict[str, str], *, first_seen: datetime, defer_text: bool
    ) -> ParsedFeed:
        if self.workers <= 0:
            try:
                return await asyncio.wait_for(
                    asyncio.to_thread(
                        parse_for_storage, body, headers, first_seen, False, defer_text
                    ),
                    self.timeout,
                )
            except TimeoutError:
                raise ParseTimeout(f"parsing took longer than {self.timeout:g} s") from None
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        loop = asyncio.get_running_loop()
        # one parse per worker at a time, so the time limit measures the parse, not a queue
        async with self._slots:
            for attempt in (1, 2):
                pool = self._ensure_pool()
                future = loop.run_in_executor(
                    pool, parse_for_storage, body, headers, first_seen, False, defer_text
                )
                try:
                    return await asyncio.wait_for(future, self.timeout)
                except TimeoutError:
                    self._recycle(pool)
                    raise ParseTimeout(f"parsing took longer than {self.timeout:g} s") from None
                except BrokenProcessPool:  # another parse's worker was killed under this one
                    self._recycle(pool)
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=os.nice,  # a worker's first act: give way to the chat (0: none)
                initargs=(self.nice,),
            )
        return self._pool

    def _recycle(self, pool: ProcessPoolExecutor) -> None:
        """Kill ``pool``'s workers (a parse that runs away) and start afresh on the next parse."""
        if self._pool is not pool:
            return
        self._pool = None
        processes = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        logger.warning("feed parser workers recycled (a parse ran over its time limit)")

    def worker_pids(self) -> list[int]:
        """Pids of live worker processes (for memory figures)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return list(processes)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
