"""A local feed server for tests: real HTTP on 127.0.0.1, a random port, no internet.

Serves dynamic feeds whose items tests change while it runs (so an end-to-end test can make an
account post again), canned upstream answers (RSSHub error pages, captcha, 429/503 with
Retry-After, 304, slow, oversized, gzip bomb, redirects) and files from a directory. Files may
carry their own response headers in ``Header: Name: value`` lines of a leading comment, as the
feedparser test corpus does.

    async with FeedServer() as server:
        url = server.set_feed("acct1", [FakeItem("首条", published=when)])
        ...
        server.add_items("acct1", FakeItem("第二条", published=later))
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

FeedKind = Literal["rss", "atom", "rdf", "json"]

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
_HEADER_LINE = re.compile(rb"^\s*Header:\s*([A-Za-z0-9-]+):[ \t]*(.*?)\s*$", re.MULTILINE)
_FILE_TYPES = {".xml": "application/xml", ".json": "application/feed+json"}


@dataclass(slots=True)
class FakeItem:
    title: str
    link: str | None = None
    guid: str | None = None
    published: datetime | None = None
    body: str = ""
    author: str | None = None


@dataclass(slots=True)
class FakeFeed:
    title: str
    items: list[FakeItem] = field(default_factory=list)
    kind: FeedKind = "rss"
    encoding: str = "utf-8"
    charset_header: bool = False
    ttl_minutes: int | None = None
    conditional: bool = True
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass(slots=True)
class CannedResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


RSSHUB_ERROR_PAGE = """<!DOCTYPE html><html lang="en"><head><title>RSSHub</title></head><body>
<h1 class="text-4xl font-bold">Looks like something went wrong</h1>
<p class="message">Error Message:<br><code class="details">{message}</code></p>
<p class="message">Route: <code>{route}</code></p></body></html>"""
TOUTIAO_EMPTY_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>今日头条</title>
</head><body><div class="profile-tab-feed"><div class="empty-tip">暂未发表作品</div></div>
</body></html>"""
CAPTCHA_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>安全验证</title>
</head><body><div id="captcha">请完成下方验证码后继续访问</div></body></html>"""
WAF_PAGE = """<!DOCTYPE html><html><head><title>Access Denied</title></head><body>
<h1>Access Denied</h1><p>Your request was blocked by the web application firewall.</p>
</body></html>"""
NOT_A_FEED_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>区政府门户网站</title>
</head><body><h1>欢迎访问</h1><p>这是一个普通网页，不是订阅源。</p></body></html>"""
MALFORMED_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>格式有误的订阅源 & 未转义</title>
<item><title>第一条 <b>未闭合</title><link>https://example.gov.cn/a/1</link>
<pubDate>Mon, 06 May 2024 08:00:00 +0800</pubDate><description>正文 &nbsp; 一</description></item>
<item><title>第二条</title><link>https://example.gov.cn/a/2</link>
</channel>"""


def default_items() -> list[FakeItem]:
    """Two ordinary Chinese posts, the content of the built-in feeds."""
    return [
        FakeItem(
            title="区政府召开常务会议",
            link="https://example.gov.cn/news/2",
            guid="news-2",
            published=datetime(2024, 5, 6, 2, 0, tzinfo=UTC),
            body="<p>会议研究了<b>民生实事</b>项目。</p><p>详见附件。</p>",
            author="区政府办公室",
        ),
        FakeItem(
            title="关于开展防汛检查的通知",
            link="https://example.gov.cn/news/1",
            guid="news-1",
            published=datetime(2024, 5, 1, 1, 30, tzinfo=UTC),
            body="各街道：请于5月10日前完成自查。",
        ),
    ]


class FeedServer:
    """Async context manager around an aiohttp app bound to 127.0.0.1 on a free port."""

    def __init__(
        self,
        *,
        files_dir: Path | str | None = None,
        header_comments: bool = True,
        bomb_size: int = 64 * 1024 * 1024,
    ) -> None:
        self.files_dir = Path(files_dir).resolve() if files_dir is not None else None
        self.header_comments = header_comments
        self.bomb_size = bomb_size
        self.requests: list[RecordedRequest] = []
        self.feeds: dict[str, FakeFeed] = {}
        self.canned: dict[str, CannedResponse] = {}
        self._bomb: bytes | None = None
        self._runner: web.AppRunner | None = None
        self.feed_delay = 0.0
        """Seconds every /feeds/ answer takes (widens the window two pollers could share)."""
        self.in_flight: dict[str, int] = {}
        self.overlaps: list[str] = []
        """Paths requested again while a request for them was still being answered."""
        self.port = 0
        for kind in ("rss", "atom", "rdf", "json"):
            self.set_feed(kind, default_items(), kind=kind, title=f"示例订阅源（{kind}）")
        self.set_feed("gbk", default_items(), encoding="gbk", title="GBK 编码的订阅源")
        self.set_feed(
            "gb18030", default_items(), encoding="gb18030", charset_header=True, title="GB18030"
        )

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server  # aiohttp keeps the bound socket only here
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ what tests use

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def feed_url(self, name: str) -> str:
        return self.url(f"/feeds/{name}")

    def set_feed(
        self,
        name: str,
        items: list[FakeItem],
        *,
        kind: FeedKind = "rss",
        title: str | None = None,
        encoding: str = "utf-8",
        charset_header: bool = False,
        ttl_minutes: int | None = None,
        conditional: bool = True,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Create or replace feed ``name`` (served at :meth:`feed_url`); returns its URL (its
        path while the server is not started)."""
        self.feeds[name] = FakeFeed(
            title=title or name,
            items=list(items),
            kind=kind,
            encoding=encoding,
            charset_header=charset_header,
            ttl_minutes=ttl_minutes,
            conditional=conditional,
            headers=dict(headers or {}),
        )
        return self.feed_url(name) if self.port else f"/feeds/{name}"

    def set_items(self, name: str, items: list[FakeItem]) -> None:
        """Replace the items of an existing feed: the next poll sees them (new ETag)."""
        self.feeds[name].items = list(items)

    def add_items(self, name: str, *items: FakeItem) -> None:
        """Publish new posts at the top of feed ``name``."""
        self.feeds[name].items[:0] = items

    def set_response(
        self,
        path: str,
        *,
        status: int = 200,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> str:
        """Answer ``path`` with a fixed response (overrides the built-in routes)."""
        data = body.encode() if isinstance(body, str) else body
        self.canned[path] = CannedResponse(status, data, dict(headers or {}), delay)
        return self.url(path)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == path]

    # ------------------------------------------------------------------ routing

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if self.in_flight.get(path):
            self.overlaps.append(path)
        self.in_flight[path] = self.in_flight.get(path, 0) + 1
        try:
            if self.feed_delay and path.startswith("/feeds/"):
                await asyncio.sleep(self.feed_delay)
            return await self._answer(request)
        finally:
            self.in_flight[path] -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            RecordedRequest(
                request.method, request.path, request.query_string, dict(request.headers)
            )
        )
        path = request.path
        canned = self.canned.get(path)
        if canned is not None:
            if canned.delay:
                await asyncio.sleep(canned.delay)
            return web.Response(status=canned.status, body=canned.body, headers=canned.headers)
        first, _, rest = path.lstrip("/").partition("/")
        handler = _ROUTES.get(first)
        if handler is None:
            return _rsshub_error(
                404, "NotFoundError: The route does not exist or has been deleted."
            )
        return await handler(self, request, rest)

    async def _feed(self, request: web.Request, name: str) -> web.StreamResponse:
        feed = self.feeds.get(name)
        if feed is None:
            return _rsshub_error(
                404, "NotFoundError: The route does not exist or has been deleted."
            )
        body, content_type = render_feed(feed)
        headers = {"Content-Type": content_type, **feed.headers}
        if feed.conditional:
            # From the content, not the bytes: lastBuildDate changes on every request (as on
            # RSSHub) and must not defeat the 304.
            digest = hashlib.sha1(repr(feed).encode(), usedforsecurity=False).hexdigest()
            etag = f'"{digest[:16]}"'
            last_modified = _last_modified(feed)
            headers |= {"ETag": etag, "Last-Modified": format_datetime(last_modified, usegmt=True)}
            if _not_modified(request, etag=etag, last_modified=last_modified):
                return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers=headers)

    async def _file(self, request: web.Request, relative: str) -> web.StreamResponse:
        if self.files_dir is None:
            raise web.HTTPNotFound()
        target = (self.files_dir / relative).resolve()
        if not target.is_relative_to(self.files_dir) or not target.is_file():
            raise web.HTTPNotFound()
        body = target.read_bytes()
        headers = {"Content-Type": _FILE_TYPES.get(target.suffix, "application/octet-stream")}
        if self.header_comments:
            headers |= _comment_headers(body)
        return web.Response(body=body, headers=headers)

    async def _slow(self, request: web.Request, _: str) -> web.StreamResponse:
        """Waits ``delay`` seconds before answering the RSS feed."""
        await asyncio.sleep(float(request.query.get("delay", "5")))
        return await self._feed(request, "rss")

    async def _drip(self, request: web.Request, _: str) -> web.StreamResponse:
        """Headers at once, then the body one byte every ``interval`` seconds."""
        interval = float(request.query.get("interval", "0.5"))
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        for byte in render_feed(self.feeds["rss"])[0]:
            await response.write(bytes([byte]))
            await asyncio.sleep(interval)
        await response.write_eof()
        return response

    async def _huge(self, request: web.Request, _: str) -> web.StreamResponse:
        """``size`` bytes of a never-ending channel, chunked (no Content-Length), or declared."""
        size = int(request.query.get("size", str(20 * 1024 * 1024)))
        if request.query.get("declared"):
            return web.Response(body=b" " * size, content_type="application/rss+xml")
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x')
        sent, block = 0, b"x" * 65536
        while sent < size:
            await response.write(block)
            sent += len(block)
        await response.write_eof()
        return response

    async def _bomb_route(self, request: web.Request, _: str) -> web.StreamResponse:
        """A small gzip body that inflates to ``bomb_size`` bytes."""
        if self._bomb is None:
            self._bomb = _gzip_zeros(self.bomb_size)
        return web.Response(
            body=self._bomb,
            headers={"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"},
        )

    async def _redirect(self, request: web.Request, _: str) -> web.StreamResponse:
        """``/redirect?to=URL&status=302``: one hop to anywhere, forbidden addresses included."""
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": request.query["to"]})

    async def _chain(self, request: web.Request, rest: str) -> web.StreamResponse:
        """``/chain/N`` redirects N times (relative Locations), then serves the RSS feed."""
        hops = int(rest or "0")
        if hops <= 0:
            return await self._feed(request, "rss")
        return web.Response(status=301, headers={"Location": f"../chain/{hops - 1}"})

    async def _loop(self, request: web.Request, _: str) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "/loop"})

    async def _status(self, request: web.Request, rest: str) -> web.StreamResponse:
        """``/status/CODE[?retry_after=S]``; 403 comes with a captcha page."""
        code = int(rest)
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        body = CAPTCHA_PAGE if code == 403 else f"<html><body>HTTP {code}</body></html>"
        return web.Response(status=code, text=body, content_type="text/html", headers=headers)

    async def _page(self, request: web.Request, name: str) -> web.StreamResponse:
        status, text = _PAGES[name]
        return web.Response(status=status, text=text, content_type="text/html")


def _rsshub_error(status: int, message: str, route: str = "/") -> web.Response:
    page = RSSHUB_ERROR_PAGE.format(message=escape(message), route=escape(route))
    return web.Response(status=status, text=page, content_type="text/html")


_PAGES: dict[str, tuple[int, str]] = {
    "captcha": (403, CAPTCHA_PAGE),
    "waf": (200, WAF_PAGE),
    "html": (200, NOT_A_FEED_PAGE),
    "toutiao-empty": (200, TOUTIAO_EMPTY_PAGE),
    "rsshub-empty": (
        503,
        RSSHUB_ERROR_PAGE.format(
            message="Error: this route is empty, please check the original site or "
            '&lt;a href="https://github.com/DIYgod/RSSHub/issues/new/choose"&gt;create an issue'
            "&lt;/a&gt;",
            route="/weibo/user/:uid",
        ),
    ),
    "rsshub-cookie": (
        503,
        RSSHUB_ERROR_PAGE.format(
            message="Error: Cookie expired, please update WEIBO_COOKIES", route="/weibo/user/:uid"
        ),
    ),
    "rsshub-captcha": (
        503,
        RSSHUB_ERROR_PAGE.format(message="CaptchaError: 触发验证码", route="/douyin/user/:uid"),
    ),
    "rsshub-not-found": (
        404,
        RSSHUB_ERROR_PAGE.format(
            message="NotFoundError: The route does not exist or has been deleted.", route="/x"
        ),
    ),
    "malformed": (200, MALFORMED_RSS),
    "empty": (200, ""),
}


async def _page_route(server: FeedServer, request: web.Request, rest: str) -> web.StreamResponse:
    return await server._page(request, request.path.lstrip("/"))


_ROUTES = {
    "feeds": FeedServer._feed,
    "files": FeedServer._file,
    "slow": FeedServer._slow,
    "drip": FeedServer._drip,
    "huge": FeedServer._huge,
    "bomb": FeedServer._bomb_route,
    "redirect": FeedServer._redirect,
    "chain": FeedServer._chain,
    "loop": FeedServer._loop,
    "status": FeedServer._status,
    **dict.fromkeys(_PAGES, _page_route),
}


def _comment_headers(body: bytes) -> dict[str, str]:
    """``Header: Name: value`` lines in the file's first comment (feedparser corpus style)."""
    head = body[:4096]
    end = head.find(b"-->")
    if end < 0:
        return {}
    headers: dict[str, str] = {}
    for name, value in _HEADER_LINE.findall(head[:end]):
        text = value.decode("latin-1")
        if text and "\n" not in text:
            headers[name.decode("ascii")] = text
    return headers


def _last_modified(feed: FakeFeed) -> datetime:
    dates = [i.published for i in feed.items if i.published is not None]
    return max(dates, default=_EPOCH).replace(microsecond=0)


def _not_modified(request: web.Request, *, etag: str, last_modified: datetime) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return etag in [t.strip() for t in if_none_match.split(",")] or if_none_match == "*"
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _gzip_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1024 * 1024)
    parts = [compressor.compress(b'<?xml version="1.0"?><rss version="2.0"><channel><title>')]
    for _ in range(size // len(block)):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    return b"".join(parts)


# ---------------------------------------------------------------------- rendering


def render_feed(feed: FakeFeed) -> tuple[bytes, str]:
    """The feed document and its Content-Type."""
    renderer, content_type = _RENDERERS[feed.kind]
    if feed.kind == "json":
        return renderer(feed).encode("utf-8"), content_type
    text = renderer(feed)
    declaration = f'<?xml version="1.0" encoding="{feed.encoding.upper()}"?>\n'
    if feed.charset_header:
        content_type += f"; charset={feed.encoding}"
    return (declaration + text).encode(feed.encoding), content_type


def _rfc822(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def _render_rss(feed: FakeFeed) -> str:
    parts = [
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
        f"<title>{escape(feed.title)}</title><link>https://example.gov.cn/</link>",
        "<description>测试订阅源</description>",
        f"<lastBuildDate>{_rfc822(datetime.now(UTC))}</lastBuildDate>",
    ]
    if feed.ttl_minutes is not None:
        parts.append(f"<ttl>{feed.ttl_minutes}</ttl>")
    for item in feed.items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f'<guid isPermaLink="false">{escape(item.guid)}</guid>')
        if item.published:
            parts.append(f"<pubDate>{_rfc822(item.published)}</pubDate>")
        if item.author:
            parts.append(f"<dc:creator>{escape(item.author)}</dc:creator>")
        parts.append(f"<description>{escape(item.body)}</description></item>")
    parts.append("</channel></rss>")
    return "\n".join(parts)


def _render_atom(feed: FakeFeed) -> str:
    updated = _last_modified(feed).isoformat()
    parts = [
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(feed.title)}</title><id>urn:fake:{escape(feed.title)}</id>",
        f"<updated>{updated}</updated>",
    ]
    for item in feed.items:
        parts.append("<entry>")
        parts.append(f'<title type="text">{escape(item.title)}</title>')
        parts.append(f"<id>urn:fake:{escape(item.guid or item.link or item.title)}</id>")
        if item.link:
            parts.append(f'<link rel="alternate" href={quoteattr(item.link)}/>')
        if item.published:
            parts.append(f"<published>{item.published.isoformat()}</published>")
            parts.append(f"<updated>{item.published.isoformat()}</updated>")
        if item.author:
            parts.append(f"<author><name>{escape(item.author)}</name></author>")
        parts.append(f'<content type="html">{escape(item.body)}</content></entry>')
    parts.append("</feed>")
    return "\n".join(parts)


def _render_rdf(feed: FakeFeed) -> str:
    parts = [
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">',
        '<channel rdf:about="https://example.gov.cn/">',
        f"<title>{escape(feed.title)}</title><link>https://example.gov.cn/</link>",
        "<description>测试订阅源</description></channel>",
    ]
    for item in feed.items:
        about = item.link or f"urn:fake:{item.guid or item.title}"
        parts.append(f"<item rdf:about={quoteattr(about)}>")
        parts.append(f"<title>{escape(item.title)}</title>")
        if item.link:
            parts.append(f"<link>{escape(item.link)}</link>")
        if item.published:
            parts.append(f"<dc:date>{item.published.isoformat()}</dc:date>")
        if item.author:
            parts.append(f"<dc:creator>{escape(item.author)}</dc:creator>")
        parts.append(f"<description>{escape(item.body)}</description></item>")
    parts.append("</rdf:RDF>")
    return "\n".join(parts)


def _render_json(feed: FakeFeed) -> str:
    items = []
    for item in feed.items:
        entry: dict[str, object] = {"id": item.guid or item.link or item.title}
        entry["title"] = item.title
        if item.link:
            entry["url"] = item.link
        if item.published:
            entry["date_published"] = item.published.isoformat()
        if item.author:
            entry["authors"] = [{"name": item.author}]
        entry["content_html"] = item.body
        items.append(entry)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.title,
        "home_page_url": "https://example.gov.cn/",
        "items": items,
    }
    return json.dumps(document, ensure_ascii=False)


_RENDERERS = {
    "rss": (_render_rss, "application/rss+xml"),
    "atom": (_render_atom, "application/atom+xml"),
    "rdf": (_render_rdf, "application/rdf+xml"),
    "json": (_render_json, "application/feed+json"),
}
