"""Poll-farm benchmark: N local feeds through the real poller and database, beside its baselines.

    .venv/bin/python bench/poll_farm.py --feeds 10000
    .venv/bin/python bench/poll_farm.py --feeds 110000 --baseline-sample 300
    .venv/bin/python bench/poll_farm.py --feeds 10000 \\
        --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/poll_farm.py --feeds 10000 --reference-parser   # feedparser only
    .venv/bin/python bench/poll_farm.py --feeds 1000000 --hosts 1000 --seed --cycles none \
        --baseline-sample 0 --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench_million
    .venv/bin/python bench/poll_farm.py --feeds 1000000 --hosts 1000 --reuse \
        --cycles unchanged,mixed --limit 100000 --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench_million

The farm (bench/farm.py) serves N feeds (30 items, about 47 KB each) on loopback addresses in
its own process. The poller runs here exactly as in the bot (claim, fetch, parse in a worker
process, store, schedule) against a fresh SQLite file (default) or the PostgreSQL URL given
(its public schema is dropped first: give it a scratch database).

Cycles: the initial import (every feed new), all unchanged (304), all changed (one new post
each), and the target mix (``--unchanged`` share answering 304). A cycle makes every feed due and
runs ticks of ``--per-tick`` (``POLL_MAX_PER_TICK``) back to back until none is due, or until
``--limit`` feeds (a partial cycle of a big farm). Per cycle: wall time, feeds/s, CPU seconds of
the main process, the parse workers, the farm and (PostgreSQL on this machine) the server's work
for the bench database, peak RSS, the capacity those CPU figures give two cores; then the
database size, its largest tables and bytes per stored post. Baselines in the same run: a bare
aiohttp loop of conditional GETs (the CPU bound of a 304) and the naive loop,
``feedparser.parse(url)`` feed after feed, over a sample.

``--pollers N`` runs N poller processes on each cycle (bench/pollers.py), as N jobs replicas
would on one PostgreSQL: one process's event loop is one core at most. Their CPU, workers and
memory are counted with the parse workers' ("workers"; "CPU main" stays this process).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.farm import (
    MAX_HOSTS,
    CpuMeter,
    Farm,
    Peak,
    bare_conditional_gets,
    sample_memory,
    start_farm,
    storage,
)
from bench.pollers import ExtraPollers, run_ticks
from bench.seed import seed, seed_accounts


def p95(values: list[int]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values, default=0)


async def make_due(url: str, sm: Any, when: datetime, *, postgres: bool) -> None:
    """Every feed due now (the start of a cycle). On PostgreSQL the million-row UPDATE leaves a
    dead version of every row behind; a VACUUM ANALYZE (not measured) clears them as autovacuum
    would, so a cycle starts from the state a running bot keeps rather than from the bench's
    own bloat."""
    from models.feeds import FeedState

    async with sm() as session:
        await session.exec(sa.update(FeedState).values(next_poll_at=when))
        await session.commit()
    if postgres:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute("VACUUM ANALYZE feed_state")
            await conn.execute("VACUUM ANALYZE polls")
        finally:
            await conn.close()


def reuse_database(url: str) -> tuple[str, str | None]:
    if url.startswith("sqlite"):
        return url, url.split("///", 1)[1]
    return url, None


async def reset_seeded(url: str) -> int:
    """Back to the state ``--seed`` wrote (PostgreSQL): the measured cycles' posts (the only ones
    with a fingerprint) and polls gone, every ETag at version 0; returns the farm port the
    feed URLs name. Lets a big database be seeded once and measured several times."""
    import asyncpg

    conn = await asyncpg.connect(
        url.replace("postgresql+asyncpg", "postgresql"), command_timeout=None
    )
    try:
        await conn.execute("DELETE FROM posts WHERE fingerprint IS NOT NULL")
        await conn.execute("TRUNCATE polls")
        await conn.execute(
            "UPDATE feed_state SET etag = v0, claimed_until = NULL, claim_token = NULL"
            " FROM (SELECT account_id AS id, '\"' || (account_id - 1) || '-0\"' AS v0"
            " FROM feed_state) AS first WHERE account_id = first.id"
            " AND (etag <> v0 OR claim_token IS NOT NULL)"
        )
        await conn.execute("VACUUM ANALYZE")
        feed_url = await conn.fetchval("SELECT feed_url FROM accounts ORDER BY id LIMIT 1")
    finally:
        await conn.close()
    return int(feed_url.rsplit(":", 1)[1].split("/", 1)[0])


async def fresh_database(url: str) -> tuple[str, str | None]:
    """The URL to use and, on SQLite, the file's path."""
    if not url:
        path = f"{tempfile.mkdtemp(prefix='pollfarm-')}/bench.db"
        return f"sqlite+aiosqlite:///{path}", path
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    return url, None


async def run_cycles(
    *,
    feeds: int,
    db_url: str = "",
    unchanged: float = 0.8,
    hosts: int = 250,
    items: int = 30,
    concurrency: int = 50,
    per_host: int = 2,
    spacing_ms: int = 500,
    workers: int = 1,
    fast_parse: bool = True,
    cycles: tuple[str, ...] = ("import", "unchanged", "changed", "mixed"),
    bare_sample: int = 2000,
    naive_sample: int = 200,
    verbose: bool = True,
    seed_state: bool = False,
    per_tick: int = 20_000,
    limit: int = 0,
    reuse: bool = False,
    farm: Farm | None = None,
    pollers: int = 1,
) -> dict[str, Any]:
    """Run the farm and the poller; return every figure (the regression test reads them).

    ``farm``: a running farm of at least ``feeds`` feeds to poll instead of starting one (a
    bench comparing another reader on the same feeds); it is left running. ``pollers``: poller
    processes sharing each cycle (this one and ``pollers - 1`` more, bench/pollers.py)."""
    from bot import db
    from bot.settings import Settings
    from feeds.fetch import make_feed_session
    from feeds.netguard import GuardPolicy
    from feeds.parsing import FeedParser
    from governance.clock import SystemClock
    from jobs.polltypes import PollerConfig

    clock = SystemClock()
    own_farm = farm is None
    if reuse:  # a database seeded by an earlier run: back to its seeded state, same farm port
        url, sqlite_path = reuse_database(db_url)
        port = await reset_seeded(url)
        farm = farm or start_farm(feeds, hosts=hosts, items=items, port=port)
    else:
        farm = farm or start_farm(feeds, hosts=hosts, items=items)
        url, sqlite_path = await fresh_database(db_url)
        await db.upgrade(url)
    engine = db.create_engine(url)
    sm = db.make_sessionmaker(engine, durable=False)  # the jobs' sessions, as in bot.app
    postgres = sqlite_path is None
    meter = CpuMeter()
    if not reuse:
        await seed_accounts(
            url,
            sqlite_path,
            feeds=feeds,
            hosts=hosts,
            port=farm.port,
            address=farm.url,
            now=clock.now(),
        )
        if verbose:
            print(f"seeded {feeds} accounts in {meter.stop().wall:.0f} s", flush=True)
    if not reuse and not seed_state:  # accounts written in bulk: the reconcile job's work
        from models.feeds import ensure_states

        async with sm() as session:
            await ensure_states(session, now=clock.now())
            await session.commit()
    if seed_state and not reuse:
        meter = CpuMeter()
        seeded = await seed(url, sqlite_path, items=items, now=clock.now(), verbose=verbose)
        if verbose:
            print(
                f"seeded the steady state: {seeded} posts in {meter.stop().wall:.0f} s", flush=True
            )
    own_limit = -(-limit // pollers) if limit else 0  # each poller's share of a partial cycle
    values: dict[str, Any] = {
        "database_url": url,
        "poll_concurrency": concurrency,
        "poll_per_host": per_host,
        "poll_host_spacing_ms": spacing_ms,
        "poll_max_per_tick": max(1, min(per_tick, own_limit or per_tick)),
        "feed_parse_workers": workers,
        "feed_fast_parse": fast_parse,
        "allow_private_feeds": False,
        "feed_allowed_hosts": ["127.0.0.0/8"],
    }
    settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
    policy = GuardPolicy(allowed_hosts=frozenset({"127.0.0.0/8"}))
    config = PollerConfig.from_settings(settings)
    parser = FeedParser(workers=workers, fast=fast_parse)
    figures: dict[str, Any] = {"feeds": feeds, "cycles": {}}

    async with make_feed_session(policy, limit=concurrency, limit_per_host=per_host) as http:

        async def cycle(name: str, share: float | None) -> None:
            if share:
                await farm.bump(share, seed=len(figures["cycles"]))
            await make_due(url, sm, clock.now() - timedelta(seconds=1), postgres=postgres)
            extra = ExtraPollers(values, pollers - 1, limit=own_limit)

            def pids() -> list[int]:
                return [*parser.worker_pids(), *extra.pids]

            peak, stop = Peak(), asyncio.Event()
            sampler = asyncio.create_task(sample_memory(peak, pids, stop))
            meter = CpuMeter(
                pids,
                farm=farm.process.pid,
                postgres=url.rsplit("/", 1)[1].split("?")[0] if postgres else "",
            )
            await extra.start()  # their start-up counts: it is part of the cycle's cost
            summary, ticks = await run_ticks(
                limit=own_limit,
                seed=0,
                sessionmaker=sm,
                clock=clock,
                settings=settings,
                http=http,
                parser=parser,
                config=config,
            )
            ticks += await extra.finished(summary)
            meter.stop()
            extra.stop()
            stop.set()
            await sampler
            polled = max(1, summary.polled)
            product = meter.main + meter.others + meter.pg  # the farm is not the product
            r = figures["cycles"][name] = {
                "seconds": meter.wall,
                "ticks": ticks,
                "polled": summary.polled,
                "changed": summary.changed,
                "unchanged": summary.unchanged,
                "new_posts": summary.new_posts,
                "outcomes": summary.outcomes,
                "feeds_per_s": summary.polled / meter.wall,
                "cpu_main": meter.main,
                "cpu_workers": meter.others,
                "cpu_farm": meter.farm,
                "cpu_pg": meter.pg,
                "cpu_ms_per_feed": 1000 * (meter.main + meter.others) / polled,
                "main_ms_per_feed": 1000 * meter.main / polled,
                "pg_ms_per_feed": 1000 * meter.pg / polled,
                "farm_ms_per_feed": 1000 * meter.farm / polled,
                "product_ms_per_feed": 1000 * product / polled,
                "cpu_capacity_per_s": 2 * polled / product if product else 0.0,
                "p95_ms": p95(summary.durations_ms),
                "peak_main_mb": peak.main_kb / 1024,
                "peak_total_mb": peak.total_kb / 1024,
                "load": os.getloadavg(),
            }
            if verbose:
                print(
                    f"{name:<16} {r['polled']:>7} feeds {meter.wall:7.1f} s"
                    f" = {r['feeds_per_s']:6.0f}/s  changed {r['changed']:>6}"
                    f" 304 {r['unchanged']:>6}"
                    f"  new {r['new_posts']:>7}  CPU main {meter.main:6.1f} s"
                    f" + workers {meter.others:6.1f} s = {r['cpu_ms_per_feed']:5.2f} ms/feed"
                    f" (main {r['main_ms_per_feed']:4.2f})  RSS {r['peak_main_mb']:.0f} MB"
                    f" (+workers {r['peak_total_mb']:.0f} MB)",
                    flush=True,
                )
                print(
                    f"{'':<16} {ticks} ticks of <= {settings.poll_max_per_tick};"
                    f" PostgreSQL server {meter.pg:6.1f} s = {r['pg_ms_per_feed']:4.2f} ms/feed;"
                    f" farm {meter.farm:6.1f} s = {r['farm_ms_per_feed']:4.2f} ms/feed;"
                    f" poller + database {r['product_ms_per_feed']:4.2f} ms/feed"
                    f" -> 2 cores: {r['cpu_capacity_per_s']:5.0f} feeds/s"
                    f" = {r['cpu_capacity_per_s'] * 1800:9.0f} per 30 min;"
                    f" wall: {r['feeds_per_s'] * 1800:9.0f} per 30 min;"
                    f" load {' '.join(f'{x:.1f}' for x in r['load'])}",
                    flush=True,
                )

        if "import" in cycles:
            await cycle("initial import", None)
        if "unchanged" in cycles:
            await cycle("all unchanged", None)
        if bare_sample:
            urls = [farm.url(i) for i in range(min(bare_sample, feeds))]
            figures["bare_304_ms"] = 1000 * await bare_conditional_gets(farm, urls, concurrency)
            if verbose and "all unchanged" in figures["cycles"]:
                ours = figures["cycles"]["all unchanged"]["main_ms_per_feed"]
                print(
                    f"bare aiohttp 304 loop ({len(urls)} GETs): {figures['bare_304_ms']:.2f} ms"
                    f" CPU each; poller per 304 {ours:.2f} ms"
                    f" = {ours / max(figures['bare_304_ms'], 1e-9):.1f}x the bound"
                )
        if "changed" in cycles:
            await cycle("all changed", 1.0)
        if "mixed" in cycles:
            await cycle(f"mixed {unchanged:.0%} 304", 1 - unchanged)
            figures["mixed"] = figures["cycles"][f"mixed {unchanged:.0%} 304"]
    parser.close()
    await engine.dispose()
    figures["storage"] = await storage(url, sqlite_path)
    if verbose:
        s = figures["storage"]
        print(
            f"database {s['db_mb']:.1f} MB: {s['posts']} posts at {s['bytes_per_post']:.0f}"
            f" B each (table + indexes; whole database / posts {s['bytes_per_post_all']:.0f} B),"
            f" {s['polls']} polls at {s['bytes_per_poll']:.0f} B each; largest: "
            + ", ".join(f"{k} {v:.1f} MB" for k, v in s["tables_mb"].items()),
            flush=True,
        )

    sample = min(naive_sample, feeds)
    if sample:
        import feedparser

        meter = CpuMeter()
        for i in range(sample):  # naive: no conditional GET, no concurrency, feedparser fetches
            feedparser.parse(farm.url(i))
        meter.stop()
        figures["naive"] = {
            "feeds_per_s": sample / meter.wall,
            "cpu_ms_per_feed": 1000 * meter.main / sample,
        }
        if verbose and "mixed" in figures:
            mixed, naive = figures["mixed"], figures["naive"]
            print(
                f"naive feedparser loop {sample} feeds: {naive['feeds_per_s']:.1f}/s,"
                f" {naive['cpu_ms_per_feed']:.2f} ms CPU/feed;"
                f" poller mix {mixed['feeds_per_s']:.0f}/s = "
                f"{mixed['feeds_per_s'] / naive['feeds_per_s']:.1f}x,"
                f" CPU/feed {mixed['cpu_ms_per_feed']:.2f} ms ="
                f" {mixed['cpu_ms_per_feed'] / naive['cpu_ms_per_feed']:.2f}x the naive loop's"
                f"  (naive projected for {feeds}: {feeds / naive['feeds_per_s']:.0f} s)"
            )
    if own_farm:
        farm.stop()
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--unchanged", type=float, default=0.8)
    ap.add_argument("--hosts", type=int, default=250, help="loopback addresses serving the farm")
    ap.add_argument("--items", type=int, default=30, help="items per feed")
    ap.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--per-host", type=int, default=2)
    ap.add_argument("--spacing-ms", type=int, default=500)
    ap.add_argument("--workers", type=int, default=1, help="parse worker processes (0: threads)")
    ap.add_argument("--reference-parser", action="store_true", help="feedparser only")
    ap.add_argument("--baseline-sample", type=int, default=200, help="naive loop sample")
    ap.add_argument(
        "--seed",
        action="store_true",
        help="write the imported state in bulk (bench/seed.py) instead of the import cycle",
    )
    ap.add_argument(
        "--per-tick",
        type=int,
        default=20_000,
        help="POLL_MAX_PER_TICK: a cycle is ticks back to back until nothing is due",
    )
    ap.add_argument(
        "--limit",
        type=int,
        default=0,
        help="stop a cycle after this many feeds (a partial cycle of a big farm; 0: all)",
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="PostgreSQL: measure a database an earlier --seed run left (reset to its seeded"
        " state; same --feeds and --hosts)",
    )
    ap.add_argument(
        "--cycles",
        default="import,unchanged,changed,mixed",
        help="which cycles to run (comma-separated; the import is needed by the others)",
    )
    ap.add_argument(
        "--pollers",
        type=int,
        default=1,
        help="poller processes sharing each cycle, as that many jobs replicas would (1: this one)",
    )
    args = ap.parse_args()
    if not 1 <= args.feeds <= 1_100_000 or not 1 <= args.hosts <= MAX_HOSTS:
        ap.error(f"--feeds must be in 1..1100000 and --hosts in 1..{MAX_HOSTS}")
    print(f"poll_farm: {' '.join(sys.argv[1:])}", flush=True)
    asyncio.run(
        run_cycles(
            feeds=args.feeds,
            db_url=args.db,
            unchanged=args.unchanged,
            hosts=args.hosts,
            items=args.items,
            concurrency=args.concurrency,
            per_host=args.per_host,
            spacing_ms=args.spacing_ms,
            workers=args.workers,
            fast_parse=not args.reference_parser,
            naive_sample=args.baseline_sample,
            cycles=tuple(
                c
                for c in args.cycles.split(",")
                if not ((args.seed or args.reuse) and c == "import")
            ),
            seed_state=args.seed,
            per_tick=args.per_tick,
            limit=args.limit,
            reuse=args.reuse,
            pollers=max(1, args.pollers),
        )
    )


if __name__ == "__main__":
    main()
