"""Hostile and broken feeds: each decodes as it says, loses only what is really broken, and costs
bounded time; a runaway parse is killed and its feed backs off."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime

import pytest

from feeds.feedbody import cap_items
from feeds.feedparse import parse_feed
from feeds.parsing import FeedParser, ParseTimeout

SEEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _rss(items: str, *, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return (
        f'{declaration}<rss version="2.0"><channel><title>某区政务</title>'
        f"<link>https://example.gov.cn/</link>{items}</channel></rss>"
    )


def _item(n: int, title: str) -> str:
    return f"<item><title>{title}</title><guid>g{n}</guid><link>https://example.gov.cn/{n}</link></item>"


def test_a_utf8_feed_with_a_bad_byte_decodes_as_utf8_with_one_replacement() -> None:
    body = _rss(_item(1, "政务公开") + _item(2, "防汛通知BAD")).encode("utf-8")
    body = body.replace(b"BAD", b"\xff\xfe")
    for headers in ({"content-type": "application/rss+xml; charset=utf-8"}, {}):
        feed = parse_feed(body, headers, first_seen=SEEN)
        assert [i.title for i in feed.items] == ["政务公开", "防汛通知\ufffd\ufffd"]


def test_an_undeclared_gbk_feed_decodes_as_gb18030_not_a_single_byte_guess() -> None:
    text = _rss(_item(1, "关于开展防汛检查的通知") + _item(2, "朱镕基"), declaration="")
    feed = parse_feed(text.encode("gbk"), {"content-type": "text/xml"}, first_seen=SEEN)
    assert [i.title for i in feed.items] == ["关于开展防汛检查的通知", "朱镕基"]


def test_a_declared_gbk_feed_is_left_to_its_declaration() -> None:
    text = _rss(_item(1, "镇街动态"), declaration='<?xml version="1.0" encoding="gbk"?>')
    feed = parse_feed(text.encode("gbk"), {}, first_seen=SEEN)
    assert feed.items[0].title == "镇街动态"


def test_a_json_feed_date_out_of_range_makes_one_item_undated() -> None:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "某区",
        "items": [
            {"id": "1", "title": "远未来", "date_published": "9999-12-31T23:59:59-05:00"},
            {"id": "2", "title": "远过去", "date_published": "0001-01-01T00:00:00+05:00"},
            {"id": "3", "title": "正常", "date_published": "2026-02-01T08:00:00+08:00"},
        ],
    }
    feed = parse_feed(
        json.dumps(document).encode(), {"content-type": "application/feed+json"}, first_seen=SEEN
    )
    assert feed.is_feed
    assert [(i.title, i.published) for i in feed.items] == [
        ("远未来", None),
        ("远过去", None),
        ("正常", datetime(2026, 2, 1, 0, 0, tzinfo=UTC)),
    ]


def test_rss_served_as_json_is_read_as_rss() -> None:
    body = _rss(_item(1, "政务公开")).encode()
    feed = parse_feed(body, {"content-type": "application/json"}, first_seen=SEEN)
    assert feed.is_feed and [i.title for i in feed.items] == ["政务公开"]


def test_a_hundred_thousand_items_cost_no_more_than_the_cap() -> None:
    body = _rss("".join(_item(n, f"第{n}条") for n in range(100_000))).encode()
    cut = cap_items(body, 1000)
    assert len(cut) < len(body) // 50
    started = time.monotonic()
    feed = parse_feed(body, {"content-type": "application/rss+xml"}, first_seen=SEEN)
    elapsed = time.monotonic() - started
    assert len(feed.items) == 1000 and feed.items[-1].title == "第999条"
    assert not feed.bozo, "the cut document is closed properly"
    assert elapsed < 5, f"parse took {elapsed:.1f} s"


@pytest.mark.parametrize(
    "body",
    [
        _rss("".join(_item(n, str(n)) for n in range(5))),
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        + "".join(f"<entry><id>{n}</id><title>{n}</title></entry>" for n in range(5))
        + "</feed>",
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>t</title></channel>'
        + "".join(f'<item rdf:about="{n}"><title>{n}</title></item>' for n in range(5))
        + "</rdf:RDF>",
    ],
)
def test_the_item_cap_keeps_every_format_well_formed(body: str) -> None:
    feed = parse_feed(body.encode(), {}, first_seen=SEEN, max_items=3)
    assert [i.title for i in feed.items] == ["0", "1", "2"] and not feed.bozo


async def test_a_parse_over_its_time_limit_kills_and_recycles_the_worker() -> None:
    body = _rss("".join(_item(n, f"第{n}条") for n in range(1000))).encode()
    parser = FeedParser(workers=1, timeout=60, fast=False)  # the worker's own limit
    try:
        warm = await parser.parse(body, {}, first_seen=SEEN)  # the worker is up
        assert len(warm.items) == 1000
        [worker] = parser.worker_pids()
        parser.timeout = 0.001
        with pytest.raises(ParseTimeout):
            await parser.parse(body, {}, first_seen=SEEN)
        assert worker not in parser.worker_pids()
        await asyncio.wait_for(_exited(worker), 5)  # the killed worker is gone
        assert not _alive(worker)
        parser.timeout = 60
        again = await parser.parse(body, {}, first_seen=SEEN)
        assert len(again.items) == 1000 and parser.worker_pids() != [worker]
    finally:
        parser.close()


async def _exited(pid: int) -> None:
    """Until the process has exited: its pidfd becomes readable then (Linux 5.3+), an event,
    not a poll."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.add_reader(fd, lambda: done.done() or done.set_result(None))
    try:
        await done
    finally:
        loop.remove_reader(fd)
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
