"""The fast parse path against the reference: every corpus feed through both.

Wherever the guard accepts a document, the fast path must agree with feedparser item by item on
identity, guid, title, link, dates, author and visible text; wherever it does not, the poller
gets feedparser's answer unchanged.
"""

from __future__ import annotations

import asyncio
import collections
from datetime import UTC, datetime

import aiohttp
import pytest

from bench.farm import render
from feeds.fastparse import is_plain_utf8, parse_fast, parse_feed_fast_first
from feeds.feedbody import cap_items
from feeds.feedparse import MAX_BODY_HTML, MAX_ITEMS, ParsedFeed, parse_feed
from feeds.fetch import fetch_feed
from feeds.netguard import guarded_connector
from feeds.outcome import PollOutcome
from tests.fakes import FeedServer
from tests.feeds.test_corpus import CORPUS, corpus_files
from tests.jobs.conftest import LOOPBACK_ONLY

FIRST_SEEN = datetime(2030, 1, 1, tzinfo=UTC)
UTF8 = {"content-type": "application/rss+xml; charset=utf-8"}


def fast_or_none(body: bytes, headers: dict[str, str]) -> ParsedFeed | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    if body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"<" or not is_plain_utf8(body, lowered):
        return None
    return parse_fast(cap_items(body, MAX_ITEMS), first_seen=FIRST_SEEN, max_items=MAX_ITEMS)


def disagreements(fast: ParsedFeed, reference: ParsedFeed) -> list[str]:
    found = []
    if fast.is_feed != reference.is_feed or len(fast.items) != len(reference.items):
        return [f"{len(fast.items)} items, reference {len(reference.items)}"]
    if fast.title != reference.title or fast.ttl_seconds != reference.ttl_seconds:
        found.append(f"feed title/ttl {fast.title!r} {reference.title!r}")
    for ours, ref in zip(fast.items, reference.items, strict=True):
        for name in ("identity", "guid", "title", "link", "published", "author", "body_text"):
            if getattr(ours, name) != getattr(ref, name):
                found.append(f"{name}: {getattr(ours, name)!r} != {getattr(ref, name)!r}")
    return found


@pytest.mark.timeout(300)
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus not found at {CORPUS}")
async def test_corpus_fast_path_agrees_with_feedparser_wherever_the_guard_accepts() -> None:
    files = corpus_files()
    bodies: dict[str, tuple[bytes, dict[str, str]]] = {}
    gate = asyncio.Semaphore(16)
    async with (
        FeedServer(files_dir=CORPUS) as server,
        aiohttp.ClientSession(
            connector=guarded_connector(LOOPBACK_ONLY, limit=16, limit_per_host=16),
            trust_env=False,
        ) as session,
    ):

        async def fetch(relative: str) -> None:
            async with gate:
                fetched = await fetch_feed(
                    session,
                    server.url("/files/" + relative),
                    policy=LOOPBACK_ONLY,
                    timeout=30,
                    user_agent="corpus-test",
                )
            if fetched.outcome is PollOutcome.OK and fetched.body is not None:
                bodies[relative] = (fetched.body, fetched.headers)

        await asyncio.gather(*(fetch(p.relative_to(CORPUS).as_posix()) for p in files))

    accepted, items, problems = 0, 0, {}
    for relative, (body, headers) in sorted(bodies.items()):
        reference = parse_feed(body, headers, first_seen=FIRST_SEEN)
        fast = fast_or_none(body, headers)
        chosen = parse_feed_fast_first(body, headers, first_seen=FIRST_SEEN)
        # text left for later (the poller: new items only) comes out exactly the same
        for lazy, eager in (
            (parse_feed_fast_first(body, headers, first_seen=FIRST_SEEN, defer_text=True), chosen),
            (parse_feed(body, headers, first_seen=FIRST_SEEN, defer_text=True), reference),
        ):
            for item in lazy.items:
                item.finish_text()
            assert lazy == eager, relative
        if fast is None:  # the guard declined: the poller gets exactly the reference
            assert disagreements(chosen, reference) == [], relative
            continue
        accepted += 1
        items += len(fast.items)
        if found := disagreements(fast, reference):
            problems[relative] = found
    assert problems == {}, collections.Counter(p[0].split(":")[0] for p in problems.values())
    # the guard must not be a way of never taking the fast path
    assert accepted >= 100 and items >= 100, (accepted, items)


def test_a_plain_feed_takes_the_fast_path_and_matches_the_reference() -> None:
    body = render(7, 3)
    fast = fast_or_none(body, UTF8)
    assert fast is not None and len(fast.items) == 30
    assert disagreements(fast, parse_feed(body, UTF8, first_seen=FIRST_SEEN)) == []


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(
            render(7, 3).decode().replace("utf-8", "gb18030").encode("gb18030"),
            {"content-type": "application/rss+xml"},
            id="gb18030",
        ),
        pytest.param(
            render(7, 3), {"content-type": "application/rss+xml; charset=gbk"}, id="declared-gbk"
        ),
        pytest.param(
            render(7, 3).replace(b"https://www.example.gov.cn/f7/art/5.html", b"/a/5"),
            UTF8,
            id="relative-link",
        ),
        pytest.param(
            render(7, 3).replace(b"<p>", b'<p><a href="../x.html">x</a>', 1),
            UTF8,
            id="relative-href",
        ),
        pytest.param(
            render(7, 3).replace(b"+0000</pubDate>", b"</pubDate>", 1),
            UTF8,
            id="date-without-zone",
            # feedparser warns when it cannot read a date (its updated_parsed fallback)
            marks=pytest.mark.filterwarnings("ignore::DeprecationWarning"),
        ),
        pytest.param(render(7, 3).replace(b"</item>", b"", 1), UTF8, id="ill-formed"),
        pytest.param(
            render(7, 3).replace(b'version="2.0"', b'version="0.91"'), UTF8, id="rss-0.91"
        ),
        pytest.param(
            render(7, 3).replace(b"<title>\xe5\x85\xb3", b"<title>&lt;b&gt;\xe5\x85\xb3", 1),
            UTF8,
            id="markup-title",
        ),
    ],
)
def test_the_guard_sends_unusual_documents_to_feedparser(
    body: bytes, headers: dict[str, str]
) -> None:
    assert fast_or_none(body, headers) is None
    chosen = parse_feed_fast_first(body, headers, first_seen=FIRST_SEEN)
    assert disagreements(chosen, parse_feed(body, headers, first_seen=FIRST_SEEN)) == []


@pytest.mark.parametrize("size", [1_000, MAX_BODY_HTML + 1_000])
def test_deferred_text_is_the_text_a_full_parse_extracts_and_huge_bodies_are_not_deferred(
    size: int,
) -> None:
    paragraph = "<p>区政府召开常务会议，研究民生实事。</p>"
    html = (paragraph * (size // len(paragraph) + 1))[:size]
    body = _rss(html)
    assert fast_or_none(body, UTF8) is not None  # both paths are exercised
    for parse in (parse_feed_fast_first, parse_feed):
        eager = parse(body, UTF8, first_seen=FIRST_SEEN)
        lazy = parse(body, UTF8, first_seen=FIRST_SEEN, defer_text=True)
        assert all(i.text_deferred == (size <= MAX_BODY_HTML) for i in lazy.items)
        assert all(i.body_text == "" for i in lazy.items if i.text_deferred)
        for item in lazy.items:
            item.finish_text()
        assert lazy == eager and eager.items[0].body_text.startswith("区政府召开常务会议")


def _rss(html: str) -> bytes:
    items = "".join(
        f"<item><title>第{n}条</title><link>https://www.example.gov.cn/a/{n}</link>"
        f"<guid>https://www.example.gov.cn/a/{n}</guid>"
        f"<pubDate>Mon, 0{n} Jan 2029 08:00:00 +0800</pubDate>"
        f"<description><![CDATA[{html}]]></description></item>"
        for n in (1, 2, 3)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>区政府</title>'
        f"<link>https://www.example.gov.cn/</link><description>d</description>{items}"
        "</channel></rss>"
    ).encode()
