"""The publication date of an item's own page (a column list may print ``[11-30]`` without a
year): the CMS's ``<meta>`` (TRS ``PubDate``, ``publishdate``, ``firstpublishedtime``, Open
Graph ``article:published_time``), else the date after a 发布时间/发布日期 label, else the first
full date in the page's text."""

from __future__ import annotations

import re
from datetime import date

from feeds.listpage.dates import find_full_dates
from feeds.listpage.html import Page, parse_page, text_of

_META_NAMES = frozenset(
    {
        "pubdate", "publishdate", "firstpublishedtime", "article:published_time", "pubtime",
        "publishtime", "publish_time", "publish-date", "og:release_date", "dc.date",
        "dc.date.issued",
    }
)  # fmt: skip
_LABELLED = re.compile(r"(?:发布|发表|公开|成文)(?:时间|日期)\s*[:：]?\s*(.{6,30})")
_TEXT_LIMIT = 200_000


def article_date(
    body: bytes, *, url: str, content_type: str | None = None, today: date
) -> date | None:
    """When the page says it was published; ``None`` when it says nothing (never raises)."""
    try:
        page = parse_page(body, url=url, content_type=content_type, today=today)
    except Exception:  # the parse never raises by design; this keeps the promise regardless
        return None
    if not isinstance(page, Page):
        return None
    for meta in page.root.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        if name in _META_NAMES:
            found = find_full_dates(meta.get("content") or "", today)
            if found:
                return found[0].day
    body_element = page.root.find("body")
    text = text_of(body_element if body_element is not None else page.root)[:_TEXT_LIMIT]
    for match in _LABELLED.finditer(text):
        found = find_full_dates(match.group(1), today)
        if found:
            return found[0].day
    found = find_full_dates(text, today)
    return found[0].day if found else None
