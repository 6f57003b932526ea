"""Recognise what RSSHub and the platforms say when they answer with a page instead of a feed.

Detection lives in the fetch layer (not the parser) because it needs the HTTP status and must
also read error bodies, which are never parsed. It only ever looks at bodies that are not feeds
(error statuses, or a 2xx whose start is HTML), so a feed whose posts quote these phrases is
never misread.

RSSHub answers errors with an HTML page titled "Looks like something went wrong" carrying
``<ErrorName>: <message>``; status 503 for most errors (including the empty-route error), 403
for ``RejectError`` and 404 for ``NotFoundError``.
"""

from __future__ import annotations

import re

from feeds.outcome import PollOutcome

# How much of a page to inspect: signatures sit near the top of any error page.
SNIFF_BYTES = 64 * 1024

_NO_POSTS = re.compile(
    r"this route is empty|暂未发表(?:任何)?作品|暂无(?:发布|作品|内容|文章)|还没有发布过",
    re.IGNORECASE,
)
_BLOCKED = re.compile(
    r"CaptchaError|RejectError|captcha|验证码|安全验证|人机验证|滑动验证|访问验证"
    r"|cookie (?:has )?expired|cookie已过期|cookie 已过期|cookie失效|cookie 失效|登录(?:已)?失效"
    r"|web application firewall|\bWAF\b|访问过于频繁|请求过于频繁|Access Denied"
    r"|Response code 4(?:03|12|18|32)\b|\"?: 4(?:03|12|18|32) [A-Z]",
    re.IGNORECASE,
)
_CONFIG_MISSING = re.compile(r"ConfigNotFoundError|InvalidParameterError", re.IGNORECASE)
_FEED_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml|<rss|<feed|<rdf:RDF|\{)", re.IGNORECASE)
_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<!doctype\s+html|<html|<head|<body)", re.I)


def looks_like_html_page(body: bytes, content_type: str) -> bool:
    """A 2xx answer that is an HTML page rather than a feed (by type or by its first bytes)."""
    head = body[:512]
    if _FEED_START.match(head):
        return False
    return "html" in content_type.lower() or bool(_HTML_START.match(head))


def classify_page(body: bytes) -> PollOutcome | None:
    """The outcome an upstream page announces (no posts, anti-crawl block, missing config)."""
    text = _decode(body[:SNIFF_BYTES])
    if _NO_POSTS.search(text):
        return PollOutcome.NO_POSTS
    if _BLOCKED.search(text):
        return PollOutcome.BLOCKED
    if _CONFIG_MISSING.search(text):
        return PollOutcome.MISCONFIGURED
    return None


def _decode(head: bytes) -> str:
    """UTF-8, else GB18030 (a superset of GBK/GB2312), which Chinese sites still serve."""
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the sniff window
            return head[: exc.start].decode("utf-8")
    return head.decode("gb18030", errors="replace")
