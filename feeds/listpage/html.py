"""Parsing and walking a page: lxml's forgiving HTML parser, links resolved, text in pieces.

A *piece* is one run of text (an element's ``.text`` or ``.tail``) with the link it belongs
to, if any: dates are recognised per piece (``<span>2026-11-30</span>``, the ``[11-30]`` after
a link), titles are the link's pieces that are not dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree

from feeds.listpage.dates import FoundDate
from feeds.listpage.decode import decode_html
from feeds.listpage.model import NoItemsReason

#: Bytes of a page that are read at all: a list page is a few hundred kB; past this, the rest.
MAX_BYTES = 4 * 1024 * 1024
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "select", "option", "head"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# Hanweb's jpage: the list is shipped as CDATA records in <script type="text/xml"> and drawn by
# JavaScript; the records are plain HTML rows, put back in place of the script.
_DATASTORE = re.compile(
    r"<script[^>]*text/xml[^>]*>\s*<datastore>(.*?)</datastore>\s*</script>", re.I | re.S
)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.I | re.S)
_HTML_SNIFF = re.compile(r"<\s*(?:html|body|head|div|a|table|ul|p|meta|title)\b", re.I)
_TRUNCATED = ("...", "…", "..", "。。。")
_BULLETS = "·•●○■□◆◇▪▫►▶>»※★☆-—|"

Element = Any  # lxml.etree._Element: lxml ships no types the project uses


@dataclass(slots=True)
class Page:
    root: Element
    url: str
    encoding: str
    base: str
    today: date
    dates: dict[str, FoundDate | None] = field(default_factory=dict)  # piece text → its date
    hints: tuple[str, ...] = ()  # the column's name: a list under that heading is the column's


def parse_page(
    body: bytes, *, url: str, content_type: str | None, today: date
) -> Page | NoItemsReason:
    """The parsed page, or a :class:`NoItemsReason` value saying why there is none."""
    if not body.strip():
        return NoItemsReason.EMPTY_BODY
    text, encoding = decode_html(body[:MAX_BYTES], content_type)
    text = _CONTROL.sub("", _XML_DECL.sub("", text, count=1))
    if "<datastore>" in text:
        text = _DATASTORE.sub(_records, text)
    if not _HTML_SNIFF.search(text[:65536]):
        return NoItemsReason.NOT_HTML
    # lxml.etree's parser, not lxml.html's: plain elements, without a Python class lookup on
    # every access (about a third faster here)
    parser = lxml.etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True, recover=True
    )
    try:
        root = lxml.etree.fromstring(text.encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.LxmlError, ValueError):
        return NoItemsReason.UNPARSABLE
    if root is None:
        return NoItemsReason.UNPARSABLE
    base = url
    for element in root.iter("base"):
        href = element.get("href")
        if href:
            base = safe_join(url, href.strip()) or url
            break
    return Page(root, url, encoding, base, today)


_TITLE_PARTS = re.compile(r"\s*(?:[_|｜\-—–·>»:：]+|\s{2,})\s*")


def column_hints(page: Page, column_name: str | None) -> tuple[str, ...]:
    """Names the column's own list may stand under: the name the caller knows, and the parts
    of ``<title>`` (``通知公告_某某区人民政府`` → 通知公告) that are not the site's name."""
    hints = [clean(column_name)] if column_name and clean(column_name) else []
    title = page.root.find(".//title")
    if title is not None and title.text:
        for part in _TITLE_PARTS.split(clean(title.text)):
            if 2 <= len(part) <= 12 and not any(w in part for w in ("网", "人民政府", "首页")):
                hints.append(part)
    return tuple(dict.fromkeys(hints))


def _records(match: re.Match[str]) -> str:
    return "".join(_RECORD.findall(match.group(1)))


def safe_join(base: str, href: str) -> str | None:
    """``href`` made absolute; ``None`` for javascript:, mailto:, bare anchors and bad URLs."""
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    if href.startswith("/") and not href.startswith("//") and "/." not in href:
        origin = base.split("/", 3)[:3]  # the common case, without urljoin's cost
        if len(origin) == 3 and origin[0] in ("http:", "https:") and origin[2]:
            return "/".join(origin) + href.split("#", 1)[0]
    try:
        joined = href if href.startswith(("http://", "https://")) else urljoin(base, href)
        parts = urlsplit(joined)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return joined.split("#", 1)[0]


def text_of(element: Element) -> str:
    """All the text inside ``element`` (``text_content()`` of lxml.html)."""
    return "".join(element.itertext())


def clean(text: str) -> str:
    return _SPACE.sub(" ", text.replace("\u00a0", " ").replace("\u3000", " ")).strip()


def pieces(record: Element, *, with_tail: bool = False) -> list[tuple[str, Element | None]]:
    """The text runs of ``record`` in document order, each with its enclosing ``<a>`` (or None).
    ``with_tail``: the record's own tail too (a link whose date follows it: ``<a>…</a>[11-30]``).
    """
    out: list[tuple[str, Element | None]] = []
    anchors: list[Element | None] = [record if record.tag == "a" else None]
    skipping = 0
    for event, element in lxml.etree.iterwalk(record, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in SKIPPED_TAGS:
                skipping += 1
            if element is not record:
                anchors.append(element if tag == "a" else anchors[-1])
            if not skipping and element.text:
                out.append((element.text, anchors[-1]))
            continue
        if tag in SKIPPED_TAGS:
            skipping -= 1
        if element is not record:
            anchors.pop()
            if not skipping and element.tail:
                out.append((element.tail, anchors[-1]))
    if with_tail and record.tail:
        out.append((record.tail, None))
    return out


def anchor_title(anchor: Element, text: str) -> str:
    """The link's title: its text, or its ``title`` attribute when the text is cut short
    ("关于开展…") or empty (an image link)."""
    text = clean(text).lstrip(_BULLETS).strip()
    attribute = clean(anchor.get("title") or "").lstrip(_BULLETS).strip()
    if not attribute:
        for image in anchor.iter("img"):
            attribute = clean(image.get("alt") or "")
            break
    if not text:
        return attribute
    if attribute and len(attribute) > len(text):
        stem = text.rstrip(".…。 ")
        if text.endswith(_TRUNCATED) or attribute.startswith(stem[: max(2, len(stem) // 2)]):
            return attribute
    return text


def class_tokens(element: Element) -> list[str]:
    """Words of an element's class and id (``list_item news-list`` → list, item, news, list)."""
    words = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
    return [w for w in re.split(r"[^a-z0-9]+", words) if w]


def host_of(url: str) -> str:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")
