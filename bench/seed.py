"""Seed a poll farm's database in its steady state, without the initial import (big N only).

At 110,000 feeds the initial import (3.3 M posts through the poller) takes longer than the cycles
it prepares, so ``poll_farm.py --seed`` writes what that import would have left with the
database's own bulk path (SQLite ``executemany``, PostgreSQL ``COPY``): every feed's version-0
ETag and state, and its 30 version-0 posts. The seeded posts carry no body and no fingerprint
(as if past ``POST_BODY_DAYS``); posts stored by the measured cycles carry both. The cycles then
run exactly as after a real import: 304s, and one new post per changed feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.farm import BASE

_POST_COLUMNS = (
    "account_id",
    "identity",
    "title",
    "link",
    "author",
    "published_at",
    "dated",
    "body",
    "fingerprint",
    "first_seen_at",
    "counts_as_activity",
)
_STATE_COLUMNS = (
    "account_id",
    "feed_url",
    "etag",
    "next_poll_at",
    "last_poll_at",
    "last_success_at",
    "consecutive_failures",
    "last_outcome",
    "last_status",
    "no_posts",
    "newest_post_at",
)


def _naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def _posts(accounts: list[tuple[int, int]], items: int, now: datetime) -> Iterator[tuple[Any, ...]]:
    seen = _naive(now)
    for account_id, feed in accounts:
        for n in range(items):
            when = _naive(BASE + timedelta(hours=6 * n + feed % 6))
            yield (
                account_id,
                f"f{feed}-{n}",
                f"关于第{n}期政务动态的通报（{feed}号账号）",
                f"https://www.example.gov.cn/f{feed}/art/{n}.html",
                "办公室",
                when,
                True,
                None,
                None,
                seen,
                True,
            )


def _state_rows(
    accounts: list[tuple[int, int]], urls: dict[int, str], items: int, now: datetime
) -> list[tuple[Any, ...]]:
    seen = _naive(now)
    return [
        (
            account_id,
            urls[account_id],
            f'"{feed}-0"',
            seen,
            seen,
            seen,
            0,
            "ok",
            200,
            False,
            _naive(BASE + timedelta(hours=6 * (items - 1) + feed % 6)),
        )
        for account_id, feed in accounts
    ]


def _feed_number(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def seed_sqlite(path: str, *, items: int, now: datetime) -> int:
    def fmt(value: Any) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value

    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT id, feed_url FROM accounts").fetchall()
        urls = {account_id: url for account_id, url in rows}
        accounts = [(account_id, _feed_number(url)) for account_id, url in rows]
        marks = ", ".join("?" * len(_STATE_COLUMNS))
        conn.executemany(
            f"INSERT INTO feed_state ({', '.join(_STATE_COLUMNS)}) VALUES ({marks})",
            ([fmt(v) for v in r] for r in _state_rows(accounts, urls, items, now)),
        )
        marks = ", ".join("?" * len(_POST_COLUMNS))
        conn.executemany(
            f"INSERT INTO posts ({', '.join(_POST_COLUMNS)}) VALUES ({marks})",
            ([fmt(v) for v in r] for r in _posts(accounts, items, now)),
        )
        conn.commit()
        conn.execute("ANALYZE")
    return len(accounts) * items


async def seed_postgres(url: str, *, items: int, now: datetime) -> int:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await conn.fetch("SELECT id, feed_url FROM accounts")
        urls = {r["id"]: r["feed_url"] for r in rows}
        accounts = [(r["id"], _feed_number(r["feed_url"])) for r in rows]
        await conn.copy_records_to_table(
            "feed_state",
            records=_state_rows(accounts, urls, items, now),
            columns=list(_STATE_COLUMNS),
        )
        await conn.copy_records_to_table(
            "posts", records=_posts(accounts, items, now), columns=list(_POST_COLUMNS)
        )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return len(accounts) * items


async def seed(url: str, sqlite_path: str | None, *, items: int, now: datetime) -> int:
    if sqlite_path is not None:
        return await asyncio.to_thread(seed_sqlite, sqlite_path, items=items, now=now)
    return await seed_postgres(url, items=items, now=now)
