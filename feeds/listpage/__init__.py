"""Column list pages as feeds: a government site's 栏目 page turned into items (title, link,
date) without a per-site template, with an optional CSS selector for the columns where the
detector fails (see :mod:`feeds.listpage.detect` for how).

Never raises on what a site sends: garbage, broken HTML, a wrong charset, a huge page give a
:class:`ListPage` with ``method=NONE`` and a :class:`NoItemsReason`.

    page = extract_items(body, url=column_url, content_type=headers.get("content-type"))
    if page.method is ExtractMethod.NONE:
        record(page.reason.label)
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import lxml.etree
from cssselect import SelectorError
from loguru import logger
from lxml.cssselect import CSSSelector

from feeds.listpage.article import article_date
from feeds.listpage.detect import MAX_ITEMS, Block, Record, date_records, find_blocks
from feeds.listpage.html import (
    Page,
    anchor_title,
    class_tokens,
    clean,
    column_hints,
    host_of,
    parse_page,
    text_of,
)
from feeds.listpage.html import safe_join as _join
from feeds.listpage.model import ExtractMethod, ListItem, ListPage, NoItemsReason

__all__ = [
    "ExtractMethod",
    "ListItem",
    "ListPage",
    "NoItemsReason",
    "article_date",
    "extract_items",
    "looks_like_portal",
    "navigation_links",
    "selector_problem",
]

_BEIJING = timezone(timedelta(hours=8))
_EMPTY_NOTICE = re.compile(
    r"暂无(?:相关)?(?:信息|数据|内容|记录|文章|新闻|公告)|没有(?:相关)?(?:信息|记录|数据)"
)
_NAV_WORDS = frozenset(
    {"nav", "navbar", "menu", "mainnav", "topnav", "daohang", "dh", "lanmu", "column", "channel"}
)
_FILE_SUFFIXES = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".zip", ".rar", ".jpg", ".png", ".gif")
MAX_NAV_LINKS = 200
MAX_SELECTOR = 500


def beijing_today() -> date:
    return datetime.now(UTC).astimezone(_BEIJING).date()


def extract_items(
    body: bytes,
    *,
    url: str,
    content_type: str | None = None,
    selector: str | None = None,
    today: date | None = None,
    all_blocks: bool = False,
    column_name: str | None = None,
) -> ListPage:
    """The items of the list on a column page.

    ``selector``: a CSS selector matching each item's element (``ul.list > li``); when given,
    detection is not tried. ``today`` (default: today in Beijing) places year-less dates such as
    ``[11-30]``. ``all_blocks``: the items of every dated block (a home page's several
    columns), not only the best one. ``column_name`` (栏目名称): a list under a heading of that
    name weighs double (as does one under a heading named in the page's ``<title>``).
    """
    try:
        return _extract(
            body, url, content_type, selector, today or beijing_today(), all_blocks, column_name
        )
    except Exception:  # a parser bug must not stop a poll: record it, report no items
        logger.opt(exception=True).warning("list page extraction failed for {}", url)
        return ListPage(reason=NoItemsReason.UNPARSABLE)


def _extract(
    body: bytes,
    url: str,
    content_type: str | None,
    selector: str | None,
    today: date,
    all_: bool,
    column_name: str | None,
) -> ListPage:
    page = parse_page(body, url=url, content_type=content_type, today=today)
    if isinstance(page, NoItemsReason):
        return ListPage(reason=page)
    page.hints = column_hints(page, column_name)
    if selector is not None and selector.strip():
        return _by_selector(page, selector.strip())
    blocks = find_blocks(page)
    if not blocks or (blocks[0].noisy and _says_empty(page)):
        return ListPage(encoding=page.encoding, reason=_why_nothing(page))
    chosen = _disjoint(blocks) if all_ else blocks[:1]
    items: list[ListItem] = []
    seen: set[str] = set()
    for block in chosen:
        for item in block.items():
            if item.link not in seen:
                seen.add(item.link)
                items.append(item)
    return ListPage(items[:MAX_ITEMS], page.encoding, ExtractMethod.DETECTED, None)


def _disjoint(blocks: list[Block]) -> list[Block]:
    """The best blocks that share no link (a block and its enclosing box hold the same ones)."""
    chosen: list[Block] = []
    taken: set[int] = set()
    best = blocks[0].score
    for block in blocks:
        anchors = {id(r.anchor) for r in block.records}
        if block.score < best * 0.05 or anchors & taken:
            continue
        chosen.append(block)
        taken |= anchors
    return chosen


def _says_empty(page: Page) -> bool:
    body = page.root.find("body")
    text = clean(text_of(body if body is not None else page.root))
    return _EMPTY_NOTICE.search(text) is not None


def _why_nothing(page: Page) -> NoItemsReason:
    if _says_empty(page):
        return NoItemsReason.EMPTY_NOTICE
    if next(page.root.iter("a"), None) is None:
        return NoItemsReason.NO_LINKS
    return NoItemsReason.NO_DATED_BLOCK


def selector_problem(selector: str) -> NoItemsReason | None:
    """``BAD_SELECTOR`` when ``selector`` is not CSS the column watcher can use (check it when
    an admin types it in), else ``None``."""
    return NoItemsReason.BAD_SELECTOR if _compile(selector) is None else None


def _compile(selector: str) -> Any:
    if not selector.strip() or len(selector) > MAX_SELECTOR:
        return None
    try:
        return CSSSelector(selector.strip(), translator="html")
    except (SelectorError, ValueError, TypeError):
        return None


def _by_selector(page: Page, selector: str) -> ListPage:
    matcher = _compile(selector)
    if matcher is None:
        return ListPage(encoding=page.encoding, reason=NoItemsReason.BAD_SELECTOR)
    try:
        elements = matcher(page.root)
    except lxml.etree.XPathError:
        return ListPage(encoding=page.encoding, reason=NoItemsReason.BAD_SELECTOR)
    if not elements:
        return ListPage(encoding=page.encoding, reason=NoItemsReason.SELECTOR_MATCHED_NOTHING)
    records = []
    for element in elements[: MAX_ITEMS * 2]:
        anchors = [element] if element.tag == "a" else list(element.iter("a"))
        best: Record | None = None
        for anchor in anchors:
            link = _join(page.base, anchor.get("href") or "")
            title = anchor_title(anchor, text_of(anchor))
            if link and title and (best is None or len(title) > len(best.title)):
                best = Record(element, anchor, title, link)
        if best is not None:
            records.append(best)
    if not records:
        return ListPage(encoding=page.encoding, reason=NoItemsReason.SELECTOR_NO_ITEMS)
    block = Block(elements[0].getparent(), records)
    date_records(block, page)
    return ListPage(block.items(), page.encoding, ExtractMethod.SELECTOR, None)


def navigation_links(body: bytes, *, url: str, content_type: str | None = None) -> list[str]:
    """A home page's same-site second-level links (its navigation), in page order.

    Links inside navigation boxes (``<nav>``, class/id nav, menu, daohang, lanmu …); without
    any, every same-site link with a short text (2–10 characters: a column name). Files,
    the home page itself and other sites are left out.
    """
    try:
        page = parse_page(body, url=url, content_type=content_type, today=beijing_today())
        if isinstance(page, NoItemsReason):
            return []
        return _navigation(page)
    except Exception:
        logger.opt(exception=True).warning("navigation links failed for {}", url)
        return []


def _navigation(page: Page) -> list[str]:
    host = host_of(page.url)
    home = page.url.split("#", 1)[0].rstrip("/")
    in_nav: list[str] = []
    short: list[str] = []
    for anchor in page.root.iter("a"):
        link = _join(page.base, anchor.get("href") or "")
        if link is None or host_of(link) != host or link.rstrip("/") == home:
            continue
        if link.lower().split("?", 1)[0].endswith(_FILE_SUFFIXES):
            continue
        if _inside_nav(anchor):
            in_nav.append(link)
        elif 2 <= len(anchor_title(anchor, text_of(anchor))) <= 10:
            short.append(link)
    return list(dict.fromkeys(in_nav or short))[:MAX_NAV_LINKS]


def _inside_nav(anchor: object) -> bool:
    element = getattr(anchor, "getparent", lambda: None)()
    while element is not None and element.tag not in ("body", "html"):
        if element.tag == "nav" or _NAV_WORDS.intersection(class_tokens(element)):
            return True
        element = element.getparent()
    return False


def looks_like_portal(
    body: bytes, *, url: str, content_type: str | None = None, today: date | None = None
) -> bool:
    """True for a home page that only navigates: links to its sections, no dated list (so
    the 首页不更新 rule looks at the second-level pages instead)."""
    try:
        page = parse_page(body, url=url, content_type=content_type, today=today or beijing_today())
        if isinstance(page, NoItemsReason):
            return False
        if any(block.dated >= 2 for block in find_blocks(page)):
            return False
        return len(_navigation(page)) >= 2
    except Exception:
        logger.opt(exception=True).warning("portal check failed for {}", url)
        return False
