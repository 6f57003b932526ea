"""The loopback feed farm and the meters shared by the poll benches and the regression test.

A farm process serves N feeds of realistic Chinese posts on many loopback addresses
(127.0.0.2 ...), so per-host politeness applies as it would across real hosts; a feed answers
304 to its own ETag until the farm "publishes" a new post on it (``POST /bump``). It runs in its
own process so its CPU never counts against the poller's. Loopback only.

The meters: CPU seconds of this process (all its threads, the aiosqlite one included) and of
other processes by pid (parse workers, the farm), peak RSS, database size and bytes per post on
SQLite (``dbstat``) and PostgreSQL (``pg_total_relation_size``).
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import random
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

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


def render(feed: int, version: int, items: int = 30) -> bytes:
    """Feed ``feed`` at ``version``: the newest ``items`` posts, newest first."""
    posts = "".join(_post(feed, n) for n in range(version + items - 1, version - 1, -1))
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{feed}号政务新媒体</title><link>https://www.example.gov.cn/f{feed}/</link>"
        f"<description>模拟订阅源</description>{posts}</channel></rss>"
    ).encode()


def farm_main(n: int, hosts: int, items: int, port_pipe: Any, port: int = 0) -> None:
    """The farm process: N feeds on ``hosts`` loopback addresses, one port (0: any free one)."""
    versions = bytearray(n)  # versions wrap at 256: plenty for a bench

    async def feed(request: web.Request) -> web.StreamResponse:
        i = int(request.match_info["i"])
        etag = f'"{i}-{versions[i]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=render(i, versions[i], items),
            headers={"ETag": etag, "Content-Type": "application/rss+xml; charset=utf-8"},
        )

    async def bump(request: web.Request) -> web.Response:
        share = float(request.query.get("share", "1"))
        rnd = random.Random(int(request.query.get("seed", "1")))
        changed = 0
        for i in range(n):
            if rnd.random() < share:
                versions[i] = (versions[i] + 1) % 256
                changed += 1
        return web.json_response({"changed": changed})

    async def cpu(request: web.Request) -> web.Response:
        return web.json_response({"cpu": own_cpu()})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/f/{i}", feed)
        app.router.add_post("/bump", bump)
        app.router.add_get("/cpu", cpu)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        first = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
        await first.start()
        bound = first._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for h in range(hosts):
            await web.TCPSite(runner, host_address(h), bound, backlog=1024).start()
        port_pipe.send(bound)
        await asyncio.Event().wait()

    asyncio.run(main())


#: at most this many loopback addresses (127.0.0.2 … 127.0.7.251): one listening socket each
MAX_HOSTS = 2000


def host_address(h: int) -> str:
    """The farm's ``h``-th loopback address: 127.0.0.2 … 127.0.0.251, then 127.0.1.2 …

    Per-host politeness (2 in flight, 500 ms between starts) caps one host at 2 polls/s, so
    250 hosts cap a run at 500 feeds/s: a million feeds on a 30-minute rhythm (556/s) needs
    more of them, as the real world has (14,000 websites, several RSSHub instances).
    (``bench/seed.py`` builds the same address in SQL.)"""
    return f"127.0.{h // 250}.{h % 250 + 2}"


@dataclass
class Farm:
    """A running farm: ``url(i)`` is feed i's address; ``bump(share)`` publishes."""

    process: Any
    port: int
    hosts: int

    def url(self, i: int) -> str:
        return f"http://{host_address(i % self.hosts)}:{self.port}/f/{i}"

    async def bump(self, share: float, seed: int) -> int:
        import aiohttp

        async with (
            aiohttp.ClientSession() as plain,
            plain.post(f"http://127.0.0.1:{self.port}/bump?share={share}&seed={seed}") as resp,
        ):
            return int((await resp.json())["changed"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)


def start_farm(feeds: int, *, hosts: int = 250, items: int = 30, port: int = 0) -> Farm:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=farm_main, args=(feeds, hosts, items, child, port), daemon=True)
    process.start()
    return Farm(process=process, port=parent.recv(), hosts=hosts)


# ------------------------------------------------------------------------------ meters


def own_cpu() -> float:
    """CPU seconds of this process, every thread included (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pid_cpu(pid: int) -> float:
    """CPU seconds of another live process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(database: str) -> float:
    """CPU seconds used so far by the local PostgreSQL server for ``database``: its backends
    plus the server's shared processes (walwriter, checkpointer, background writer …, counted
    whole although other databases share them). Other databases' backends are left out, so
    other sessions' tests on the same server do not count; a backend that exited is lost (the
    poller's pooled connections live through a cycle). 0 without a local server."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace").split()
        except OSError:
            continue
        if stat[stat.find("(") + 1 : stat.rfind(")")] != "postgres":
            continue
        # a backend's title: "postgres: 15/main: USER DATABASE HOST(PORT) STATE"
        backend = len(title) >= 5 and "(" in title[4]
        if backend and title[3] != database:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU of this process and of the given other processes between start and ``stop()``;
    with ``farm`` and ``postgres`` (a database name), also of the farm process and of the local
    PostgreSQL server's work for that database."""

    def __init__(
        self,
        pids: Callable[[], Iterable[int]] = list,
        *,
        farm: int | None = None,
        postgres: str = "",
    ) -> None:
        self._pids, self._farm_pid, self._postgres = pids, farm, postgres
        self._own = own_cpu()
        self._wall = time.perf_counter()
        self._others = {p: pid_cpu(p) for p in pids()}
        self._farm = pid_cpu(farm) if farm else 0.0
        self._pg = postgres_cpu(postgres) if postgres else 0.0
        self.main = self.others = self.wall = self.farm = self.pg = 0.0

    def stop(self) -> CpuMeter:
        self.main = own_cpu() - self._own
        self.wall = time.perf_counter() - self._wall
        self.others = sum(pid_cpu(p) - self._others.get(p, 0.0) for p in self._pids())
        self.farm = pid_cpu(self._farm_pid) - self._farm if self._farm_pid else 0.0
        self.pg = postgres_cpu(self._postgres) - self._pg if self._postgres else 0.0
        return self


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


async def sample_memory(peak: Peak, pids: Callable[[], Iterable[int]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        main = rss_kb(os.getpid())
        total = main + sum(rss_kb(p) for p in pids())
        peak.main_kb, peak.total_kb = max(peak.main_kb, main), max(peak.total_kb, total)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.2)


async def bare_conditional_gets(farm: Farm, urls: list[str], concurrency: int = 50) -> float:
    """CPU seconds per 304 of a bare aiohttp loop: conditional GETs, nothing else (the bound).

    Run it before any ``bump``: it sends every feed's version-0 ETag."""
    import aiohttp

    queue = list(urls)
    async with aiohttp.ClientSession() as http:
        meter = CpuMeter()

        async def worker() -> None:
            while queue:
                url = queue.pop()
                i = url.rsplit("/", 1)[1]
                async with http.get(url, headers={"If-None-Match": f'"{i}-0"'}) as resp:
                    await resp.read()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        meter.stop()
    return meter.main / max(1, len(urls))


# ------------------------------------------------------------------------------ storage


def sqlite_storage(path: str) -> dict[str, Any]:
    import sqlite3

    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
        indexes = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='posts'"
            )
        ]
        posts = conn.execute("SELECT count(*) FROM posts").fetchone()[0]
        polls = conn.execute("SELECT count(*) FROM polls").fetchone()[0]
    return {
        "tables": dict(sorted(pages.items(), key=lambda kv: -kv[1])[:6]),
        "size": os.path.getsize(path),
        "post_bytes": pages.get("posts", 0) + sum(pages.get(i, 0) for i in indexes),
        "poll_bytes": sum(v for k, v in pages.items() if "polls" in k),
        "posts": posts,
        "polls": polls,
    }


async def postgres_storage(url: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        tables = await conn.fetch(
            "SELECT relname, pg_total_relation_size(oid) AS size FROM pg_class"
            " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY 2 DESC"
        )
        return {
            "tables": {t["relname"]: t["size"] for t in tables[:6]},
            "size": await conn.fetchval("SELECT pg_database_size(current_database())"),
            "post_bytes": await conn.fetchval("SELECT pg_total_relation_size('posts')"),
            "poll_bytes": await conn.fetchval("SELECT pg_total_relation_size('polls')"),
            "posts": await conn.fetchval("SELECT count(*) FROM posts"),
            "polls": await conn.fetchval("SELECT count(*) FROM polls"),
        }
    finally:
        await conn.close()


async def storage(url: str, sqlite_path: str | None) -> dict[str, Any]:
    """Database size, rows and bytes per post (the posts table with its indexes)."""
    raw = sqlite_storage(sqlite_path) if sqlite_path else await postgres_storage(url)
    posts, polls = max(1, raw["posts"]), max(1, raw["polls"])
    return {
        "tables_mb": {k: v / 2**20 for k, v in raw["tables"].items()},
        "db_mb": raw["size"] / 2**20,
        "posts": raw["posts"],
        "polls": raw["polls"],
        "bytes_per_post": raw["post_bytes"] / posts,
        "bytes_per_post_all": raw["size"] / posts,
        "bytes_per_poll": raw["poll_bytes"] / polls,
    }
