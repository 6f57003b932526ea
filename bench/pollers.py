"""More poller processes for `bench/poll_farm.py --pollers N`: what N jobs replicas do.

The poller's event loop is one core at most: at a million feeds a single process is CPU-bound
long before the machine is. The product's answer is more replicas (``REPLICA_DUTIES=jobs`` or
``all``) on one PostgreSQL: each claims due feeds with ``FOR UPDATE SKIP LOCKED``, so they
share a cycle without polling a feed twice. Each extra process here runs exactly the ticks the
bench's own poller runs (``jobs.poll.poll_feeds`` back to back, its own engine, feed session
and parse worker), reports its pids at start (so the bench's CPU meter and memory sampler
count it and its worker) and its tick totals at the end, then waits to be told to exit so its
CPU is read while it is still alive.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from dataclasses import dataclass, field
from typing import Any

from jobs.polltypes import TickSummary


def merge(into: TickSummary, tick: TickSummary) -> None:
    """Add one tick's (or one poller's) totals to a cycle's."""
    into.claimed += tick.claimed
    into.polled += tick.polled
    into.changed += tick.changed
    into.unchanged += tick.unchanged
    into.new_posts += tick.new_posts
    into.durations_ms += tick.durations_ms
    for k, v in tick.outcomes.items():
        into.outcomes[k] = into.outcomes.get(k, 0) + v


async def run_ticks(*, limit: int, seed: int, **poll: Any) -> tuple[TickSummary, int]:
    """``jobs.poll.poll_feeds`` ticks back to back, as a busy bot runs them, until nothing is
    due or ``limit`` feeds were polled (0: no limit); the totals and the number of ticks."""
    from jobs.poll import poll_feeds

    summary, ticks = TickSummary(), 0
    while not limit or summary.polled < limit:
        tick = await poll_feeds(rng=random.Random(seed + ticks), **poll)
        if not tick.claimed:
            break
        ticks += 1
        merge(summary, tick)
    return summary, ticks


def _poller_main(settings: dict[str, Any], index: int, limit: int, conn: Any) -> None:
    asyncio.run(_poll(settings, index, limit, conn))


async def _poll(values: dict[str, Any], index: int, limit: int, conn: Any) -> None:
    import os

    from bot import db
    from bot.settings import Settings
    from feeds.fetch import make_feed_session
    from feeds.netguard import GuardPolicy
    from feeds.parsing import FeedParser
    from governance.clock import SystemClock
    from jobs.polltypes import PollerConfig

    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    engine = db.create_engine(settings.database_url)
    parser = FeedParser(workers=settings.feed_parse_workers, fast=settings.feed_fast_parse)
    policy = GuardPolicy(allowed_hosts=frozenset({"127.0.0.0/8"}))
    conn.send(("pids", [os.getpid(), *parser.worker_pids()]))
    async with make_feed_session(
        policy, limit=settings.poll_concurrency, limit_per_host=settings.poll_per_host
    ) as http:
        summary, ticks = await run_ticks(
            limit=limit,
            seed=1000 * (index + 1),
            sessionmaker=db.make_sessionmaker(engine, durable=False),  # as in bot.app
            clock=SystemClock(),
            settings=settings,
            http=http,
            parser=parser,
            config=PollerConfig.from_settings(settings),
        )
    conn.send(("done", (summary, ticks)))
    conn.recv()  # exit only when told: the bench reads this process's CPU first
    parser.close()
    await engine.dispose()


@dataclass
class ExtraPollers:
    """N - 1 poller processes beside the bench's own, for one cycle."""

    settings: dict[str, Any]
    count: int
    limit: int = 0
    pids: list[int] = field(default_factory=list)
    _pipes: list[Any] = field(default_factory=list)
    _procs: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        for i in range(self.count):
            here, there = ctx.Pipe()
            proc = ctx.Process(
                target=_poller_main, args=(self.settings, i, self.limit, there), daemon=True
            )
            proc.start()
            self._pipes.append(here)
            self._procs.append(proc)
        for pipe in self._pipes:
            kind, pids = await asyncio.to_thread(pipe.recv)
            assert kind == "pids"
            self.pids += pids

    async def finished(self, into: TickSummary) -> int:
        """Wait for every extra poller's last tick; add its totals; return its ticks."""
        ticks = 0
        for pipe in self._pipes:
            kind, (summary, n) = await asyncio.to_thread(pipe.recv)
            assert kind == "done"
            merge(into, summary)
            ticks += n
        return ticks

    def stop(self) -> None:
        for pipe in self._pipes:
            pipe.send("exit")
        for proc in self._procs:
            proc.join(30)
        self._pipes.clear()
        self._procs.clear()
        self.pids.clear()
