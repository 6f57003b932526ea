"""parse_feed: formats, encodings, identities, dates and caps."""

from __future__ import annotations

import json
import pickle
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from feeds.feedparse import (
    MAX_BODY_TEXT,
    MAX_TITLE,
    ParsedFeed,
    html_to_text,
    parse_feed,
)
from tests.fakes.feeds import MALFORMED_RSS, NOT_A_FEED_PAGE, FakeFeed, default_items, render_feed

SEEN = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
RSS = "application/rss+xml"


def rss(items: str, *, channel: str = "", encoding: str = "utf-8") -> bytes:
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>某区政务</title>'
        f"<link>https://example.gov.cn/</link>{channel}{items}</channel></rss>"
    )
    return text.encode(encoding)


def parse(body: bytes, content_type: str = RSS, **kw: object) -> ParsedFeed:
    return parse_feed(body, {"content-type": content_type}, first_seen=SEEN, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["rss", "atom", "rdf", "json"])
def test_every_format_yields_the_same_items(kind: str) -> None:
    body, content_type = render_feed(FakeFeed("示例", default_items(), kind=kind))  # type: ignore[arg-type]
    feed = parse(body, content_type)
    assert feed.is_feed and not feed.bozo and feed.title == "示例"
    first = feed.items[0]
    assert first.title == "区政府召开常务会议"
    assert first.link == "https://example.gov.cn/news/2"
    assert first.published == datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    assert first.body_text == "会议研究了民生实事项目。\n详见附件。"
    assert "<b>民生实事</b>" in first.body_html
    assert [i.published for i in feed.items] == [i.published for i in default_items()]


def test_rss_item_fields() -> None:
    feed = parse(
        rss(
            "<item><title>  关于 &amp; 通知\n </title><link>https://example.gov.cn/a/1</link>"
            '<guid isPermaLink="false">abc-1</guid><dc:creator>办公室</dc:creator>'
            "<pubDate>Mon, 06 May 2024 08:00:00 +0800</pubDate>"
            "<description>&lt;p&gt;第一段&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;"
            "&lt;p&gt;第二段&amp;nbsp;结束&lt;/p&gt;</description></item>",
            channel="<ttl>30</ttl>",
        )
    )
    assert feed.ttl_seconds == 1800 and feed.format == "rss20"
    (item,) = feed.items
    assert item.identity == item.guid == "abc-1"
    assert item.title == "关于 & 通知"
    assert item.author == "办公室"
    assert item.published == datetime(2024, 5, 6, 0, 0, tzinfo=UTC)
    assert item.body_text == "第一段\n第二段 结束"
    assert "<script>x()</script>" in item.body_html  # kept as evidence, dropped from the text


def test_identity_falls_back_to_link_then_hash() -> None:
    body = rss(
        "<item><title>A</title><link>https://example.gov.cn/a</link></item>"
        "<item><title>B</title><pubDate>Mon, 06 May 2024 08:00:00 GMT</pubDate></item>"
        "<item><title>C</title></item>"
    )
    first, later = parse(body), parse_feed(body, {}, first_seen=SEEN + timedelta(days=3))
    assert first.items[0].identity == "https://example.gov.cn/a"
    assert first.items[1].identity.startswith("sha1:")
    assert first.items[1].identity != first.items[2].identity
    assert [i.identity for i in first.items] == [i.identity for i in later.items]


def test_feed_build_date_is_never_an_item_date() -> None:
    feed = parse(
        rss(
            "<item><title>无日期</title><guid>x</guid></item>",
            channel="<lastBuildDate>Sat, 01 Jun 2024 11:59:00 GMT</lastBuildDate>"
            "<pubDate>Sat, 01 Jun 2024 11:59:00 GMT</pubDate>",
        )
    )
    assert feed.items[0].published is None


def test_atom_updated_is_used_when_published_is_missing() -> None:
    body = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
    <updated>2024-05-31T00:00:00Z</updated>
    <entry><id>urn:1</id><title>e</title><updated>2024-05-02T10:00:00+08:00</updated></entry>
    </feed>"""
    (item,) = parse(body, "application/atom+xml").items
    assert item.published == datetime(2024, 5, 2, 2, 0, tzinfo=UTC)


def test_future_dates_are_clamped_but_identity_is_stable() -> None:
    future = "<item><title>未来</title><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item>"
    first = parse(rss(future)).items[0]
    later = parse_feed(rss(future), {}, first_seen=SEEN + timedelta(hours=1)).items[0]
    assert first.published == SEEN
    assert first.identity == later.identity


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "gb2312", "utf-16", "utf-8"])
def test_declared_encodings(encoding: str) -> None:
    body = rss("<item><title>政务公开</title><guid>1</guid></item>", encoding=encoding)
    feed = parse(body, "application/xml")
    assert feed.items[0].title == "政务公开"


def test_charset_from_http_header_without_declaration() -> None:
    body = (
        '<rss version="2.0"><channel><title>标题</title>'
        "<item><title>镇街动态</title></item></channel></rss>"
    )
    feed = parse(body.encode("gb18030"), "text/xml; charset=gb18030")
    assert feed.items[0].title == "镇街动态"


def test_gbk_characters_in_gb2312_declaration() -> None:
    """Sites declare gb2312 but use GBK-only characters (镕); feedparser maps to gb18030."""
    feed = parse(
        rss("<item><title>朱镕基 瑄</title></item>", encoding="gbk").replace(b"gbk", b"gb2312")
    )
    assert feed.items[0].title == "朱镕基 瑄"


def test_malformed_feed_is_used_and_recorded() -> None:
    feed = parse(MALFORMED_RSS.encode())
    assert feed.is_feed and feed.bozo and feed.bozo_error
    assert [i.link for i in feed.items] == [
        "https://example.gov.cn/a/1",
        "https://example.gov.cn/a/2",
    ]


@pytest.mark.parametrize(
    "body",
    [NOT_A_FEED_PAGE.encode(), b"", b"\x00\xff\xfe garbage", b"plain text", b"<html", b"[1, 2]"],
)
def test_not_a_feed(body: bytes) -> None:
    assert not parse(body, "text/html").is_feed


def test_json_feed_1_0_and_1_1() -> None:
    v10 = {
        "version": "https://jsonfeed.org/version/1",
        "title": "JSON 1.0",
        "items": [
            {
                "id": 7,
                "url": "https://example.gov.cn/7",
                "content_text": "纯文本\n\n  正文",
                "date_published": "2024-05-06T10:00:00+08:00",
                "author": {"name": "甲"},
            },
            {"id": "8", "content_html": "<p>x</p>", "date_modified": "2024-05-07T00:00:00Z"},
            "not an item",
        ],
    }
    feed = parse(json.dumps(v10).encode(), "application/json")
    assert feed.is_feed and feed.format == "json1" and feed.title == "JSON 1.0"
    first, second = feed.items
    assert (first.identity, first.author, first.body_text) == ("7", "甲", "纯文本\n正文")
    assert first.published == datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    assert second.published == datetime(2024, 5, 7, tzinfo=UTC)
    body, ctype = render_feed(FakeFeed("J", default_items(), kind="json"))
    assert parse(body, ctype).format == "json11"


@pytest.mark.parametrize(
    "body", [b'{"version": "1", "items": []}', b"{not json", b'{"title": "no version"}']
)
def test_json_that_is_not_a_json_feed(body: bytes) -> None:
    feed = parse(body, "application/feed+json")
    assert not feed.is_feed and feed.bozo


def test_unsafe_links_are_dropped() -> None:
    feed = parse(rss("<item><title>x</title><link>javascript:alert(1)</link><guid>g</guid></item>"))
    assert feed.items[0].link is None


def test_relative_links_resolve_against_content_location() -> None:
    body = rss("<item><title>x</title><link>/news/1.html</link></item>")
    feed = parse_feed(
        body,
        {"content-type": RSS, "content-location": "https://example.gov.cn/feed.xml"},
        first_seen=SEEN,
    )
    assert feed.items[0].link == "https://example.gov.cn/news/1.html"


def test_text_fields_are_capped() -> None:
    long_body = "<p>" + "字" * (MAX_BODY_TEXT + 5000) + "</p>"
    body = rss(
        f"<item><title>{'长' * (MAX_TITLE + 50)}</title><guid>{'g' * 3000}</guid>"
        f"<description><![CDATA[{long_body}]]></description></item>"
    )
    (item,) = parse(body).items
    assert len(item.title) == MAX_TITLE
    assert len(item.body_text) == MAX_BODY_TEXT
    assert len(item.identity) <= 512 and item.identity.startswith("sha1:")


def test_item_count_is_capped() -> None:
    items = "".join(f"<item><title>{n}</title><guid>{n}</guid></item>" for n in range(30))
    assert len(parse(rss(items), max_items=10).items) == 10


def test_results_pickle_for_process_pools() -> None:
    body, ctype = render_feed(FakeFeed("示例", default_items()))
    feed = parse(body, ctype)
    assert pickle.loads(pickle.dumps(feed)) == feed


def test_never_fetches_urls_or_external_entities(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("feedparser tried to open a URL")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    assert not parse(b"http://169.254.169.254/latest/meta-data/").is_feed
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<rss version="2.0"><channel><title>t</title><item><title>&x;</title></item>'
        b"</channel></rss>"
    )
    feed = parse(xxe)
    assert all("root:" not in i.title + i.body_text for i in feed.items)


def test_html_to_text() -> None:
    html = (
        "<div>第一段&nbsp;&amp;<br>换行</div><style>p{}</style><script>alert(1)</script>"
        "<ul><li>甲</li><li>乙</li></ul>   尾部\u3000文字  "
    )
    assert html_to_text(html) == "第一段 &\n换行\n甲\n乙\n尾部 文字"
    assert html_to_text("纯文本  两个空格") == "纯文本 两个空格"
    assert html_to_text("<p>" + "a" * 50 + "</p>", limit=10) == "a" * 10
    assert html_to_text("") == ""
