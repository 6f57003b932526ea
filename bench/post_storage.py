"""Bytes per stored post: the same realistic posts through the real storage path, two codebases.

    .venv/bin/python bench/post_storage.py --posts 20000 --baseline /work/wt-storage-base
    .venv/bin/python bench/post_storage.py --posts 20000 --baseline /work/wt-storage-base \\
        --db postgresql+asyncpg://postgres@127.0.0.1:5432/bench_storage
    .venv/bin/python bench/post_storage.py --cpu     # CPU per body: this format beside format 0

Each codebase (``--baseline DIR``: a checkout of the code to compare with, e.g. a worktree of
``main``; and this one) runs in its own process on a fresh database migrated to its own head
(SQLite file, or the PostgreSQL URL given: its public schema is dropped first, give it a scratch
database). The posts are the same in both: ``--posts`` items spread over 100-post accounts and
over one year of ``first_seen_at`` days, written day by day with ``models.posts.insert_many`` as
the poller writes them. Titles and texts are drawn from the project's government-text samples
(``tests/data/*.jsonl``, split into sentences; 3-40 sentences a post, ≈ 820 characters, 2.1 KB
of UTF-8), links are CMS article URLs and the identity is the link (a feed's ``guid`` usually is).

Three figures per codebase, bytes per post of the posts table with its indexes (and TOAST):
**kept** (every body stored), **one year** (bodies of posts first seen more than
``POST_BODY_DAYS`` ago expired with ``models.posts.expire_bodies``, then ``VACUUM`` /
``VACUUM FULL posts``; ``--body-days``, 90 (the default setting) and 60) and **expired**
(every body gone, vacuumed likewise).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
DATA = HERE / "tests" / "data"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PER_ACCOUNT = 100


def sentences() -> list[str]:
    found: set[str] = set()
    for name in ("reposts", "quality_eval", "quality_heldout", "quality_fresh"):
        for line in (DATA / f"{name}.jsonl").read_text().splitlines():
            record = json.loads(line)
            texts = (
                [record["post"]["text"], record["task"]["text"]]
                if "post" in record
                else [record["text"]]
            )
            for text in texts:
                for part in re.split(r"(?<=[。！？\n])", text):
                    part = part.strip()
                    if len(part) >= 8 and "<" not in part:
                        found.add(part)
    return sorted(found)


def realistic_posts(n: int) -> list[dict[str, Any]]:
    """The same ``n`` posts on every run: title, link (= identity), author, dates, text."""
    pool = sentences()
    rnd = random.Random(17)
    sites = [
        f"www.{rnd.choice('abcdefghjkmnpqrstwxyz')}{i}.gov.cn" for i in range(n // PER_ACCOUNT + 1)
    ]
    posts = []
    for i in range(n):
        account = i % max(1, n // PER_ACCOUNT)
        day = rnd.randrange(365)
        seen = NOW - timedelta(days=day, seconds=rnd.randrange(86_400))
        column = rnd.choice(["zwgk", "xwzx/zwdt", "zfxxgk/tzgg", "ywdt/bmdt", "art"])
        link = f"https://{sites[account]}/{column}/{seen:%Y%m}/t{seen:%Y%m%d}_{rnd.randrange(10**7)}.html"
        title = rnd.choice(pool).rstrip("。！？")[: rnd.randint(12, 36)]
        text = "\n".join(rnd.sample(pool, rnd.randint(3, 40)))
        posts.append(
            {
                "account": account,
                "identity": link,
                "title": title,
                "link": link,
                "author": rnd.choice([None, None, "办公室", "融媒体中心", "新闻科"]),
                "published_at": seen - timedelta(minutes=rnd.randrange(600)),
                "first_seen": seen,
                "text": text,
            }
        )
    return posts


# ------------------------------------------------------------------------------ one codebase


async def measure(code: Path, url: str, n: int, body_days: list[int]) -> dict[str, Any]:
    """Runs inside a process whose ``sys.path`` starts with ``code``."""
    import sqlalchemy as sa

    from bot import db
    from governance.registry import AccountStatus
    from models import posts as post_store
    from models.accounts import Account
    from models.people import Unit, User

    sqlite_path = None
    if not url:
        sqlite_path = f"{tempfile.mkdtemp(prefix='poststore-')}/bench.db"
        url = f"sqlite+aiosqlite:///{sqlite_path}"
    else:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await conn.close()
    await db.upgrade(url)
    engine = db.create_engine(url)
    sm = db.make_sessionmaker(engine)
    items = realistic_posts(n)
    accounts = max(1, n // PER_ACCOUNT)
    async with sm() as session:
        unit = Unit(name="基准单位", created_at=NOW)
        person = User(telegram_id=1, name="基准", created_at=NOW, updated_at=NOW)
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
                    "feed_url": f"http://127.0.0.1/{i}.xml",
                    "status": AccountStatus.ACTIVE.value,
                    "created_by": person.id,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "version": 1,
                }
                for i in range(accounts)
            ],
        )
        ids = [
            int(i)
            for i in (await session.exec(sa.select(Account.id).order_by(Account.id))).scalars()
        ]  # type: ignore[call-overload]
        await session.commit()

    by_day: dict[datetime, dict[int, list[Any]]] = {}
    for p in sorted(items, key=lambda p: p["first_seen"]):
        day = p["first_seen"].replace(hour=0, minute=0, second=0, microsecond=0)
        by_day.setdefault(day, {}).setdefault(ids[p["account"]], []).append(
            post_store.NewPost(
                identity=p["identity"],
                title=p["title"],
                link=p["link"],
                author=p["author"],
                published_at=p["published_at"],
                dated=True,
                body_text=p["text"],
                counts_as_activity=True,
            )
        )
    for day, batch in sorted(by_day.items()):
        async with sm() as session:
            await post_store.insert_many(session, posts=batch, now=day)
            await session.commit()

    figures: dict[str, Any] = {"posts": n, "utf8": sum(len(p["text"].encode()) for p in items) / n}
    figures["kept"] = await _bytes_per_post(engine, sqlite_path, url, n, full=False)
    windows = [(f"year{d}", NOW - timedelta(days=d)) for d in sorted(body_days, reverse=True)]
    for label, before in [*windows, ("expired", NOW + timedelta(days=1))]:
        while True:
            async with sm() as session:
                gone = await post_store.expire_bodies(session, before=before, batch=5000)
                await session.commit()
            if gone < 5000:
                break
        figures[label] = await _bytes_per_post(engine, sqlite_path, url, n, full=True)
    await engine.dispose()
    return figures


async def _bytes_per_post(
    engine: Any, sqlite_path: str | None, url: str, n: int, *, full: bool
) -> float:
    if sqlite_path:
        await engine.dispose()
        with contextlib.closing(sqlite3.connect(sqlite_path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if full:
                conn.execute("VACUUM")
            conn.execute("ANALYZE")
            pages = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"))
            names = [
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'posts'")
            ]
            names += [k for k in pages if k.startswith("sqlite_autoindex_posts")]
        return sum(pages.get(k, 0) for k in set(names)) / n
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        # Another database's open transaction on the same server can keep VACUUM FULL from
        # removing the old row versions: try again until pgstattuple finds none left.
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
        for _attempt in range(60):
            await conn.execute("VACUUM FULL ANALYZE posts" if full else "VACUUM ANALYZE posts")
            dead = await conn.fetchval("SELECT dead_tuple_count FROM pgstattuple('posts')")
            if not full or dead == 0:
                break
            await asyncio.sleep(1)
        else:
            print(f"warning: {dead} dead row versions left in posts", file=sys.stderr)
        return float(await conn.fetchval("SELECT pg_total_relation_size('posts')")) / n
    finally:
        await conn.close()


# ------------------------------------------------------------------------------ codec CPU


def codec_cpu(n: int = 2000, runs: int = 5) -> dict[str, float]:
    """CPU µs per body (min of ``runs``): this code's format against format 0 (zlib of UTF-8)."""
    import time
    import zlib

    from models.postbody import compress_body, expand_body
    from models.posts import stored_identity

    items = realistic_posts(n)
    texts = [p["text"] for p in items]
    old = [zlib.compress(t.encode(), 6) for t in texts]
    new = [compress_body(t) for t in texts]
    cases: dict[str, Any] = {
        "format 0 compress": (lambda t: zlib.compress(t.encode(), 6), texts),
        "current compress": (compress_body, texts),
        "format 0 read": (expand_body, old),
        "current read": (expand_body, new),
        "identity digest": (stored_identity, [p["identity"] for p in items]),
    }
    best: dict[str, float] = {}
    for _run in range(runs):
        for name, (fn, inputs) in cases.items():
            start = time.process_time()
            for value in inputs:
                fn(value)
            spent = (time.process_time() - start) / len(inputs) * 1e6
            best[name] = min(best.get(name, spent), spent)
    best["format 0 bytes"] = sum(map(len, old)) / n
    best["current bytes"] = sum(len(b or b"") for b in new) / n
    return best


# ------------------------------------------------------------------------------ driver


def run_codebase(code: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            str(code),
            "--posts",
            str(args.posts),
            "--db",
            args.db,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=code,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument(
        "--db", default="", help="PostgreSQL URL of a scratch database; SQLite if empty"
    )
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--body-days", default="90,60", help="POST_BODY_DAYS to measure a year at")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cpu", action="store_true", help="only the codec's CPU per body")
    args = parser.parse_args()
    if args.cpu:
        sys.path.insert(0, str(HERE))
        for name, value in codec_cpu().items():
            unit = "B" if name.endswith("bytes") else "µs"
            print(f"{name}: {value:.0f} {unit}")
        return
    if args.worker:
        sys.path.insert(0, str(args.worker))
        days = [int(d) for d in args.body_days.split(",")]
        print(json.dumps(asyncio.run(measure(args.worker, args.db, args.posts, days))))
        return
    backend = "PostgreSQL" if args.db else "SQLite"
    rows = []
    if args.baseline:
        rows.append(("baseline", run_codebase(args.baseline.resolve(), args)))
    rows.append(("this code", run_codebase(HERE, args)))
    print(f"{backend}, {args.posts} posts, text ≈ {rows[-1][1]['utf8']:.0f} B UTF-8 a post")
    days = sorted((int(d) for d in args.body_days.split(",")), reverse=True)
    year = " | ".join(f"one year, {d}-day bodies" for d in days)
    print(f"| code | body kept | {year} | every body expired |")
    print("|---|---|" + "---|" * len(days) + "---|")
    for label, f in rows:
        cells = " | ".join(f"{f[f'year{d}']:.0f} B" for d in days)
        print(f"| {label} | {f['kept']:.0f} B | {cells} | {f['expired']:.0f} B |")


if __name__ == "__main__":
    main()
