"""The history sweep job on a seeded database, beside the full re-check it avoids.

    .venv/bin/python bench/history_sweep_job.py [--posts 100000] [--database-url URL]

Seeds ``--posts`` stored posts (titles and ≈ ``--chars``-character bodies of the checker bench's
realistic government text; ``--kept`` of them still have their compressed body, the rest are
past ``POST_BODY_DAYS`` and keep the title only; one post in ``--hit-every`` contains the word
the bench then adds) in SQLite (a temporary file, default) or PostgreSQL (``--database-url``;
its public schema is dropped first). Then, printed side by side:

- baseline: the full re-check, :func:`jobs.quality_scan.check_document` (``check_text`` of title
  and body) on every post read back from the database, measured on ``--baseline`` posts and
  extrapolated per post;
- the real job (:func:`jobs.history_sweep.sweep_history`) after an admin adds a 涉赌 word
  (differential text walk over every post; findings, alerts and the content case are written as
  in production), then after the word is removed again (the findings-citing walk only).

Each line gives wall time, posts/s, CPU per post (the whole process: event loop, driver and the
checking thread) and the time that rate gives for 10 million posts (linear extrapolation).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from checker_speed import corpus

WORD = "滨江夜游"
TEN_MILLION = 10_000_000
ACCOUNTS = 1000
_POST_COLUMNS = (
    "account_id",
    "identity",
    "title",
    "link",
    "published_at",
    "dated",
    "body",
    "first_seen_at",
    "counts_as_activity",
)


def _pool(chars: int, size: int = 1000) -> tuple[list[str], list[bytes], list[bytes]]:
    """Titles, plain bodies and bodies carrying the word (compressed once, reused)."""
    text = "".join(corpus(3.0))
    step = (len(text) - chars) // size
    bodies = [text[i * step : i * step + chars] for i in range(size)]
    titles = [text[i * step + 7 : i * step + 27].replace("\n", "") for i in range(size)]
    plain = [zlib.compress(b.encode(), 6) for b in bodies]
    marked = [
        zlib.compress((b[: chars // 2] + f"推出{WORD}项目，" + b[chars // 2 :]).encode(), 6)
        for b in bodies
    ]
    return titles, plain, marked


def _rows(n: int, *, chars: int, kept: float, hit_every: int) -> Iterator[tuple[Any, ...]]:
    titles, plain, marked = _pool(chars)
    now = datetime(2026, 11, 1)
    keep_every = max(1, round(1 / kept)) if kept > 0 else 0
    for i in range(n):
        hit = i % hit_every == hit_every // 2
        has_body = keep_every and i % keep_every == 0
        k = i % len(titles)
        title = titles[k]
        if hit and not has_body:
            title = f"{WORD}{title}"[:40]
        body = (marked if hit else plain)[k] if has_body else None
        yield (
            1 + i % ACCOUNTS,
            f"p{i}",
            title,
            f"https://example.gov.cn/{i}",
            now - timedelta(minutes=i),
            True,
            body,
            now - timedelta(minutes=i),
            True,
        )


async def _seed_accounts(sm: Any) -> None:
    import sqlalchemy as sa

    from governance.clock import SystemClock
    from governance.registry import AccountStatus
    from models.accounts import Account
    from models.people import Unit, User

    now = SystemClock().now()
    async with sm() as session:
        unit = Unit(name="基准单位", created_at=now)
        person = User(telegram_id=1, name="基准", created_at=now, updated_at=now)
        session.add_all([unit, person])
        await session.flush()
        await session.exec(
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
                    "status": AccountStatus.ACTIVE.value,
                    "created_by": person.id,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for i in range(ACCOUNTS)
            ],
        )
        await session.commit()


def _seed_sqlite(path: str, rows: Iterator[tuple[Any, ...]]) -> None:
    def fmt(value: Any) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value

    marks = ", ".join("?" * len(_POST_COLUMNS))
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.executemany(
            f"INSERT INTO posts ({', '.join(_POST_COLUMNS)}) VALUES ({marks})",
            ([fmt(v) for v in r] for r in rows),
        )
        conn.commit()
        conn.execute("ANALYZE")


async def _seed_postgres(url: str, rows: Iterator[tuple[Any, ...]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.copy_records_to_table("posts", records=rows, columns=list(_POST_COLUMNS))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _fresh(url: str | None) -> tuple[str, str | None]:
    if not url:
        path = f"{tempfile.mkdtemp(prefix='sweepbench-')}/bench.db"
        return f"sqlite+aiosqlite:///{path}", path
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await conn.close()
    return url, None


def _line(name: str, posts: int, wall: float, cpu: float, extra: str = "") -> None:
    rate = posts / wall if wall else float("inf")
    print(
        f"{name:<34} {posts:>10,} posts {wall:8.1f} s wall {rate:>10,.0f} posts/s "
        f"{cpu / max(posts, 1) * 1e6:8.1f} µs CPU/post  10 M posts: "
        f"{TEN_MILLION / rate / 60:7.1f} min wall, {TEN_MILLION * cpu / max(posts, 1) / 60:7.1f} "
        f"min CPU {extra}"
    )


async def _baseline(sm: Any, sample: int) -> tuple[int, float, float]:
    """The full re-check of ``sample`` posts: read, expand, check_document on each."""
    from governance.quality import build_checker
    from jobs.quality_scan import check_document
    from models import posts

    checker = build_checker()
    wall, cpu = time.perf_counter(), time.process_time()
    done, cursor = 0, 0
    while done < sample:
        async with sm() as session:
            rows = await posts.text_batch(session, after=cursor, limit=min(2000, sample - done))
        if not rows:
            break
        for _pid, _aid, title, body in rows:
            text = zlib.decompress(body).decode() if body else ""
            check_document(checker, title=title, html="", text=text, allowed_domains=frozenset())
        done += len(rows)
        cursor = rows[-1][0]
    return done, time.perf_counter() - wall, time.process_time() - cpu


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", ""))
    parser.add_argument("--chars", type=int, default=1200)
    parser.add_argument("--kept", type=float, default=0.1, help="share of posts with a body")
    parser.add_argument("--hit-every", type=int, default=500)
    parser.add_argument("--baseline", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()

    from bot import db
    from bot.settings import Settings
    from governance.clock import SystemClock
    from governance.roles import Actor, Role
    from jobs.history_sweep import sweep_history
    from models import wordlists
    from models.wordlists import RuleKind
    from workflows.checker import LiveChecker

    url, path = await _fresh(args.database_url)
    await db.upgrade(url)
    engine = db.create_engine(url)
    sm = db.make_sessionmaker(engine)
    await _seed_accounts(sm)
    began = time.perf_counter()
    rows = _rows(args.posts, chars=args.chars, kept=args.kept, hit_every=args.hit_every)
    if path is not None:
        await asyncio.to_thread(_seed_sqlite, path, rows)
    else:
        await _seed_postgres(url, rows)
    backend = "SQLite" if path else "PostgreSQL"
    print(
        f"{backend}: seeded {args.posts:,} posts ({args.kept:.0%} with a {args.chars}-char body, "
        f"1 in {args.hit_every} carrying the word) in {time.perf_counter() - began:.0f} s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )

    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    clock = SystemClock()
    live = LiveChecker()
    admin = Actor(user_id=1, unit_id=None, roles=frozenset({Role.ADMIN}))

    lags: list[float] = []

    async def probe() -> None:
        """How late the event loop wakes a 10 ms timer while the job runs (the chat's wait)."""
        while True:
            due = time.perf_counter() + 0.01
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - due)

    async def run() -> tuple[Any, float, float]:
        async with sm() as session:  # the chat handler rebuilds the checker (≈ 1 s), not the job
            await live.refresh(session)
        lags.clear()
        prober = asyncio.create_task(probe())
        wall, cpu = time.perf_counter(), time.process_time()
        summary = await sweep_history(
            sessionmaker=sm, clock=clock, live=live, settings=settings, batch=args.batch
        )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        prober.cancel()
        return summary, wall, cpu

    def lag() -> str:
        ordered = sorted(lags) or [0.0]
        pick = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"event-loop lag p50 {ordered[len(ordered) // 2] * 1000:.1f} ms, "
            f"p99 {pick * 1000:.1f} ms, max {ordered[-1] * 1000:.0f} ms"
        )

    await run()  # the first run records the lists the posts were checked with
    lags.clear()
    prober = asyncio.create_task(probe())
    await asyncio.sleep(3)
    prober.cancel()
    print(f"{'control: idle loop, 3 s':<34} {lag()}")

    done, wall, cpu = await _baseline(sm, args.baseline)
    _line("baseline: full re-check (sample)", done, wall, cpu)

    async with sm() as session:
        rule = await wordlists.add_rule(
            session,
            actor=admin,
            kind=RuleKind.WORD,
            word=WORD,
            category="gambling",
            now=clock.now(),
        )
        await session.commit()
    summary, wall, cpu = await run()
    _line(
        "job: word added (text walk)",
        summary.posts,
        wall,
        cpu,
        f"[{summary.rechecked:,} rechecked, {summary.found:,} findings]",
    )
    print(f"{'':<34} {lag()}")

    async with sm() as session:
        await wordlists.remove_rule(session, actor=admin, rule_id=rule.id or 0, now=clock.now())
        await session.commit()
    summary, wall, cpu = await run()
    print(
        f"{'job: word removed (findings walk)':<34} {summary.posts:>10,} posts revisited "
        f"(those citing the word) {wall:6.1f} s wall, {cpu:5.1f} s CPU, "
        f"{summary.withdrawn:,} findings withdrawn; the other {args.posts - summary.posts:,} "
        "posts are not read: the cost follows the findings, not the number of posts"
    )
    print(f"{'':<34} {lag()}")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
