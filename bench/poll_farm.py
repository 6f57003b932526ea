"""Poll-farm benchmark: N local feeds through the real poller and database.

    .venv/bin/python bench/poll_farm.py --feeds 1000
    .venv/bin/python bench/poll_farm.py --feeds 10000 --baseline-sample 300
    .venv/bin/python bench/poll_farm.py --feeds 1000 --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench

A farm process serves N feeds of realistic Chinese posts (30 items, about 40 KB each) on many
loopback addresses (127.0.0.2 ...), so per-host politeness applies as it would across real
hosts; a feed answers 304 to its own ETag until the farm "publishes" a new post on it. The
poller runs in this process exactly as in the bot (claim, fetch, parse in worker processes,
store, schedule), against a fresh SQLite file (default) or the PostgreSQL URL given.

Cycles: the initial import (every feed new), all unchanged (304), all changed (one new post
each), and the target mix (``--unchanged`` share answering 304). Then a naive baseline,
``feedparser.parse(url)`` in a loop, over a sample. Only loopback traffic; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

import sqlalchemy as sa
from aiohttp import web

SENTENCES = [
    "区政府召开常务会议，研究部署民生实事项目推进工作。",
    "会议强调，要压实工作责任，确保各项任务按期保质完成。",
    "街道组织开展防汛应急演练，检验队伍快速反应能力。",
    "区教育局发布秋季学期招生入学政策解读，回应家长关切。",
    "市场监管部门开展食品安全专项检查，共检查经营主体一百二十家。",
    "社区志愿者走访独居老人，送去慰问品并排查居家安全隐患。",
    "区人社局举办春风行动专场招聘会，提供就业岗位两千余个。",
    "生态环境部门通报上月空气质量，优良天数比例同比上升。",
    "政务服务中心推出“一件事一次办”，企业开办时间压缩至一个工作日。",
    "卫健部门提醒市民做好季节性传染病防护，科学佩戴口罩。",
]
BASE = datetime(2026, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------ the farm


def _post(feed: int, n: int) -> str:
    rnd = random.Random(feed * 100_003 + n)
    body = "".join(rnd.choice(SENTENCES) for _ in range(16))
    when = BASE + timedelta(hours=6 * n + feed % 6)
    date = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"<item><title>关于第{n}期政务动态的通报（{feed}号账号）</title>"
        f"<link>https://www.example.gov.cn/f{feed}/art/{n}.html</link>"
        f'<guid isPermaLink="false">f{feed}-{n}</guid><pubDate>{date}</pubDate>'
        f"<author>办公室</author><description><![CDATA[<p>{body}</p>]]></description></item>"
    )


def render(feed: int, version: int) -> bytes:
    items = "".join(_post(feed, n) for n in range(version + 29, version - 1, -1))
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{feed}号政务新媒体</title><link>https://www.example.gov.cn/f{feed}/</link>"
        f"<description>模拟订阅源</description>{items}</channel></rss>"
    ).encode()


def farm_main(n: int, hosts: int, port_pipe: Any) -> None:
    """The farm process: N feeds on ``hosts`` loopback addresses, one port."""
    versions = [0] * n

    async def feed(request: web.Request) -> web.StreamResponse:
        i = int(request.match_info["i"])
        etag = f'"{i}-{versions[i]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=render(i, versions[i]),
            headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"},
        )

    async def bump(request: web.Request) -> web.Response:
        share = float(request.query.get("share", "1"))
        rnd = random.Random(int(request.query.get("seed", "1")))
        changed = 0
        for i in range(n):
            if rnd.random() < share:
                versions[i] += 1
                changed += 1
        return web.json_response({"changed": changed})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{i}", feed)
        app.router.add_post("/bump", bump)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        first = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await first.start()
        port = first._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for h in range(hosts):
            await web.TCPSite(runner, f"127.0.0.{h + 2}", port, backlog=1024).start()
        port_pipe.send(port)
        await asyncio.Event().wait()

    asyncio.run(main())


# ------------------------------------------------------------------------------ measuring


def rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Peak:
    main_kb: int = 0
    total_kb: int = 0


async def sample_memory(peak: Peak, pids: Any, stop: asyncio.Event) -> None:
    while not stop.is_set():
        main = rss_kb(os.getpid())
        total = main + sum(rss_kb(p) for p in pids())
        peak.main_kb, peak.total_kb = max(peak.main_kb, main), max(peak.total_kb, total)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


def p95(values: list[int]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values, default=0)


# ------------------------------------------------------------------------------ the run


async def run(args: argparse.Namespace) -> None:
    from bot import db
    from bot.settings import Settings
    from feeds.fetch import make_feed_session
    from feeds.netguard import GuardPolicy
    from feeds.parsing import FeedParser
    from governance.clock import SystemClock
    from governance.registry import AccountStatus
    from jobs.poll import poll_feeds
    from jobs.polltypes import PollerConfig
    from models.accounts import Account
    from models.feeds import FeedState
    from models.people import Unit, User

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    farm = ctx.Process(target=farm_main, args=(args.feeds, args.hosts, child), daemon=True)
    farm.start()
    port = parent.recv()
    url = args.db or f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='pollfarm-')}/bench.db"
    if url.startswith("postgresql"):
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()
    await db.upgrade(url)
    engine = db.create_engine(url)
    sm = db.make_sessionmaker(engine)
    clock = SystemClock()
    now = clock.now()

    def feed_url(i: int) -> str:
        return f"http://127.0.0.{i % args.hosts + 2}:{port}/f/{i}"

    async with sm() as session:
        unit = Unit(name="基准单位", created_at=now)
        person = User(telegram_id=1, name="基准", created_at=now, updated_at=now)
        session.add_all([unit, person])
        await session.flush()
        for start in range(0, args.feeds, 2000):
            await session.exec(  # type: ignore[call-overload]
                sa.insert(Account),
                params=[
                    {
                        "platform": "wechat",
                        "name": f"账号{i}",
                        "platform_ref": f"r{i}",
                        "platform_ref_norm": f"r{i}",
                        "unit_id": unit.id,
                        "responsible_id": person.id,
                        "posts_per_week": 3,
                        "necessity": "基准",
                        "operating_plan": "基准",
                        "feed_url": feed_url(i),
                        "status": AccountStatus.ACTIVE.value,
                        "created_by": person.id,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                    for i in range(start, min(args.feeds, start + 2000))
                ],
            )
        await session.commit()

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=url,
        poll_concurrency=args.concurrency,
        poll_per_host=args.per_host,
        poll_host_spacing_ms=args.spacing_ms,
        feed_parse_workers=args.workers,
        allow_private_feeds=False,
        feed_allowed_hosts=["127.0.0.0/8"],
    )
    policy = GuardPolicy(allowed_hosts=frozenset({"127.0.0.0/8"}))
    config = PollerConfig.from_settings(settings)
    parser = FeedParser(workers=args.workers)
    results: dict[str, dict[str, Any]] = {}

    async with make_feed_session(
        policy, limit=args.concurrency, limit_per_host=args.per_host
    ) as http:
        import aiohttp

        async def cycle(name: str, share: float | None) -> None:
            if share:
                async with (
                    aiohttp.ClientSession() as plain,
                    plain.post(
                        f"http://127.0.0.1:{port}/bump?share={share}&seed={len(results)}"
                    ) as resp,
                ):
                    await resp.json()
            async with sm() as session:
                await session.exec(  # type: ignore[call-overload]
                    sa.update(FeedState).values(next_poll_at=clock.now() - timedelta(seconds=1))
                )
                await session.commit()
            peak, stop = Peak(), asyncio.Event()
            sampler = asyncio.create_task(sample_memory(peak, parser.worker_pids, stop))
            started = time.perf_counter()
            summary = await poll_feeds(
                sessionmaker=sm,
                clock=clock,
                settings=settings,
                http=http,
                parser=parser,
                rng=random.Random(1),
                config=config,
            )
            elapsed = time.perf_counter() - started
            stop.set()
            await sampler
            results[name] = {
                "seconds": elapsed,
                "polled": summary.polled,
                "changed": summary.changed,
                "unchanged": summary.unchanged,
                "new_posts": summary.new_posts,
                "outcomes": summary.outcomes,
                "feeds_per_s": summary.polled / elapsed,
                "p95_ms": p95(summary.durations_ms),
                "peak_main_mb": peak.main_kb / 1024,
                "peak_total_mb": peak.total_kb / 1024,
            }
            r = results[name]
            print(
                f"{name:<16} {r['polled']:>6} feeds in {elapsed:6.1f} s"
                f" = {r['feeds_per_s']:7.1f}/s  changed {r['changed']:>5}  304 {r['unchanged']:>5}"
                f"  new posts {r['new_posts']:>6}"
                f"  p95 {r['p95_ms']:6.0f} ms  peak RSS {r['peak_main_mb']:.0f} MB"
                f" (+workers {r['peak_total_mb']:.0f} MB)  {r['outcomes']}",
                flush=True,
            )

        await cycle("initial import", None)
        await cycle("all unchanged", None)
        await cycle("all changed", 1.0)
        await cycle(f"mixed {args.unchanged:.0%} 304", 1 - args.unchanged)
    parser.close()
    await engine.dispose()

    sample = min(args.baseline_sample, args.feeds)
    if sample:
        import feedparser

        started = time.perf_counter()
        for i in range(sample):  # naive: no conditional GET, no concurrency, feedparser fetches
            feedparser.parse(feed_url(i))
        naive = sample / (time.perf_counter() - started)
        mixed = results[f"mixed {args.unchanged:.0%} 304"]["feeds_per_s"]
        print(
            f"naive baseline   {sample:>6} feeds: {naive:7.1f}/s"
            f"   poller/naive = {mixed / naive:.1f}x"
            f"  (naive projected for {args.feeds}: {args.feeds / naive:.0f} s)"
        )
    farm.terminate()
    farm.join(5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--unchanged", type=float, default=0.8)
    ap.add_argument("--hosts", type=int, default=250, help="loopback addresses serving the farm")
    ap.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--per-host", type=int, default=2)
    ap.add_argument("--spacing-ms", type=int, default=500)
    ap.add_argument("--workers", type=int, default=1, help="parse worker processes (0: threads)")
    ap.add_argument("--baseline-sample", type=int, default=200)
    args = ap.parse_args()
    if not 1 <= args.feeds <= 100_000 or not 1 <= args.hosts <= 250:
        ap.error("--feeds must be in 1..100000 and --hosts in 1..250")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
