"""The hostile-feed corpus through the real poller in one tick: nothing crashes, every feed ends in
a defined outcome, good items survive their bad neighbours, and the tick's time is bounded."""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import select

from feeds.fetch import make_feed_session
from feeds.parsing import FeedParser
from governance.clock import ManualClock
from governance.roles import Role
from jobs.poll import poll_feeds
from models.feeds import FeedState
from models.posts import Post
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes import FeedServer
from tests.jobs.conftest import LOOPBACK_ONLY

RSS = "application/rss+xml"


def _rss(items: str, *, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return (
        f'{declaration}<rss version="2.0"><channel><title>某区政务</title>'
        f"<link>https://example.gov.cn/</link>{items}</channel></rss>"
    )


def _item(n: int, title: str) -> str:
    return f"<item><title>{title}</title><guid>g{n}</guid></item>"


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><rss version="2.0"><channel><title>t</title><item><title>&j;</title></item>'
    "</channel></rss>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<rss version="2.0"><channel><title>t</title><item><title>x&xxe;y</title><guid>1</guid>'
    "</item></channel></rss>"
)
JSON_9999 = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "items": [
            {"id": "1", "title": "坏日期", "date_published": "9999-12-31T23:59:59-05:00"},
            {"id": "2", "title": "好条目", "date_published": "2026-02-01T08:00:00+08:00"},
        ],
    }
)

# path → (status, body, content type); None for the server's built-in hostile routes
CORPUS: dict[str, tuple[int, bytes, str] | None] = {
    "/h/utf8-bad": (
        200,
        _rss(_item(1, "政务公开") + _item(2, "坏字节X")).encode().replace(b"X", b"\xff"),
        RSS,
    ),
    "/h/gbk-undeclared": (
        200,
        _rss(_item(1, "防汛通知"), declaration="").encode("gbk"),
        "text/xml",
    ),
    "/h/json-9999": (200, JSON_9999.encode(), "application/feed+json"),
    "/h/rss-as-json": (200, _rss(_item(1, "政务公开")).encode(), "application/json"),
    "/h/many": (200, _rss("".join(_item(n, str(n)) for n in range(80_000))).encode(), RSS),
    "/h/laughs": (200, LAUGHS.encode(), RSS),
    "/h/xxe": (200, XXE.encode(), RSS),
    "/h/empty": (200, b"", RSS),
    "/h/blank": (200, b"  \n ", RSS),
    "/h/garbage": (200, bytes(range(256)) * 100, RSS),
    "/h/deep": (200, (b"<a>" * 50_000) + (b"</a>" * 50_000), RSS),
    "/bomb/": None,
    "/huge/": None,
    "/loop/": None,
}


@pytest.fixture
async def http() -> AsyncIterator[Any]:
    async with make_feed_session(LOOPBACK_ONLY) as session:
        yield session


async def _office(sessionmaker: Any, clock: ManualClock, urls: dict[str, str]) -> dict[str, int]:
    now = clock.now()
    unit = await seed_unit(sessionmaker, "某街道办", now)
    await seed_person(
        sessionmaker,
        telegram_id=ADMIN_ID,
        name="管理员",
        unit_id=None,
        roles=(Role.ADMIN,),
        now=now,
    )
    person = await seed_person(
        sessionmaker, telegram_id=5001, name="责任人", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    accounts = {}
    for n, (path, url) in enumerate(urls.items()):
        accounts[path] = await seed_account(
            sessionmaker,
            admin_telegram_id=ADMIN_ID,
            unit_id=unit,
            responsible_id=person,
            name=f"账号{n}",
            feed_url=url,
            now=now,
        )
    return accounts


async def test_the_hostile_corpus_costs_one_bounded_tick_and_loses_no_good_item(
    sessionmaker: Any, clock: ManualClock, database_url: str, http: Any
) -> None:
    settings = make_settings(database_url, "http://127.0.0.1:9", poll_timeout=10)
    parser = FeedParser(workers=1, timeout=10)
    try:
        async with FeedServer(bomb_size=256 * 1024 * 1024) as server:
            urls = {}
            for path, canned in CORPUS.items():
                if canned is None:
                    urls[path] = server.url(path)
                else:
                    status, body, ctype = canned
                    urls[path] = server.set_response(
                        path, status=status, body=body, headers={"Content-Type": ctype}
                    )
            accounts = await _office(sessionmaker, clock, urls)
            started = time.monotonic()
            summary = await poll_feeds(
                sessionmaker=sessionmaker,
                clock=clock,
                settings=settings,
                http=http,
                parser=parser,
                rng=random.Random(3),
            )
            elapsed = time.monotonic() - started
    finally:
        parser.close()
    assert summary.polled == len(CORPUS)
    assert elapsed < 30, f"the tick took {elapsed:.1f} s"
    async with sessionmaker() as session:
        states = {s.account_id: s for s in await session.exec(select(FeedState))}
        posts = list(await session.exec(select(Post)))
    outcome = {path: states[account].last_outcome for path, account in accounts.items()}
    titles = {(p.account_id, p.title) for p in posts}
    assert all(o is not None for o in outcome.values()), outcome
    assert not any("internal error" in (s.last_error or "") for s in states.values())
    assert outcome["/h/empty"] == outcome["/h/blank"] == "empty_body"
    assert outcome["/bomb/"] == outcome["/huge/"] == "too_large"
    assert (accounts["/h/utf8-bad"], "政务公开") in titles
    assert (accounts["/h/utf8-bad"], "坏字节\ufffd") in titles
    assert (accounts["/h/gbk-undeclared"], "防汛通知") in titles
    assert (accounts["/h/json-9999"], "好条目") in titles
    assert (accounts["/h/json-9999"], "坏日期") in titles
    assert (accounts["/h/rss-as-json"], "政务公开") in titles
    assert states[accounts["/h/rss-as-json"]].last_error is None
    assert sum(1 for p in posts if p.account_id == accounts["/h/many"]) == 1000
    assert not any("root:" in p.title for p in posts), "no external entity was read"
    assert outcome["/h/laughs"] in ("ok", "not_a_feed")
