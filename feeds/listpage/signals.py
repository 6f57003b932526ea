"""What tells a column's own list from the other dated boxes of a page (see
:mod:`feeds.listpage.detect`): noise boxes by tag and class/id words (navigation, footer,
friend links, sidebars, tickers), pagination close by, the breadcrumb it follows, a heading
naming the column, and links under the column's own directory."""

from __future__ import annotations

import re
from dataclasses import dataclass

from feeds.listpage.html import Element, Page, class_tokens, clean, text_of

_NOISE_WORDS = frozenset(
    {
        "nav", "navbar", "menu", "submenu", "daohang", "dh", "footer", "foot", "bottom",
        "copyright", "banquan", "friend", "friends", "yqlj", "links", "flink", "header",
        "breadcrumb", "crumb", "position", "location", "dqwz", "pager", "pagination", "fenye",
        "pages", "sidebar", "side", "aside", "hot", "rank", "paihang", "phb", "tuijian",
        "recommend", "related", "xgxx", "xgwz", "xglj", "share", "tool", "tools", "gundong",
        "scroll", "marquee", "ticker",
    }
)  # fmt: skip
_NOISE_TAGS = frozenset({"nav", "footer", "header", "aside", "marquee"})
_CRUMB_WORDS = frozenset({"breadcrumb", "crumb", "position", "location", "dqwz", "weizhi"})
_CRUMB_NAMED = re.compile("|".join(_CRUMB_WORDS))
_CRUMB_TEXT = re.compile("当前位置|您的位置|您现在的位置|所在位置|当前页面")
_PAGER_TEXT = frozenset({"下一页", "上一页", "尾页", "末页", "下页", "上页", ">>", "next"})


def affinity(page: Page, links: list[str]) -> float:
    """1.5 when most links live under the page's own directory (``/tzgg/index.html`` →
    ``/tzgg/202611/t…``): a column's items do, a sidebar's picks from the whole site don't."""
    directory = column_directory(page)
    if directory is None:
        return 1.0
    under = sum(1 for link in links if link.startswith(directory))
    return 1.5 if under * 5 >= len(links) * 3 else 1.0


def column_directory(page: Page) -> str | None:
    """The page's own directory (``http://h/tzgg/`` for ``http://h/tzgg/index.html``), or
    ``None`` at the site root, where every link would be "under" it."""
    directory = page.url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[0] + "/"
    return directory if directory.count("/") > 3 else None


@dataclass(slots=True)
class Landmarks:
    """What tells the column's own list from the rest: pagination close by (element → levels
    above a 下一页 link), and the breadcrumb (当前位置) that the list follows."""

    pagers: dict[int, int]
    order: dict[int, int]  # element → position in document order
    crumb: int | None  # position of the breadcrumb
    hints: tuple[str, ...] = ()  # the column's name (see Page.hints)


def landmarks(page: Page) -> Landmarks:
    order: dict[int, int] = {}
    crumb = None
    for position, element in enumerate(page.root.iter()):
        order[id(element)] = position
        if crumb is None and isinstance(element.tag, str) and element.tag != "title":
            named = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
            if (
                _CRUMB_NAMED.search(named) and _CRUMB_WORDS.intersection(class_tokens(element))
            ) or (element.text and _CRUMB_TEXT.search(element.text)):
                crumb = position
    return Landmarks(_pager_ancestors(page), order, crumb, page.hints)


def damping(container: Element, marks: Landmarks) -> float:
    """Below 1 inside navigation, footer, sidebar, ticker boxes; above 1 near pagination or
    after the breadcrumb."""
    factor, pager = 1.0, 1.0
    element, level = container, 0
    while element is not None and element.tag not in ("body", "html"):
        if element.tag in _NOISE_TAGS or _NOISE_WORDS.intersection(class_tokens(element)):
            factor = min(factor, 0.1)
        if level + marks.pagers.get(id(element), 99) <= 4:
            pager = 1.5
        element, level = element.getparent(), level + 1
    after = 1.0
    if marks.crumb is not None and marks.order.get(id(container), -1) > marks.crumb:
        after = 1.5
    named = 1.0
    if marks.hints:
        heading = _under_heading(container, marks.hints)
        named = 1.0 if heading is None else 2.0 if heading else 0.5
    return factor * pager * after * named


def _under_heading(container: Element, hints: tuple[str, ...]) -> bool | None:
    """Whether the nearest short text before the list (a ``<h3>``, a ``div.title``) names the
    column (``<h3>预决算公开</h3><ul>…`` on the 预决算公开 page), names something else
    (``<h3>要闻</h3>``: another box), or ``None``: no heading."""
    element = container
    for _ in range(3):  # the container, then up to two boxes around it
        sibling = element.getprevious()
        for _ in range(3):
            if sibling is None:
                break
            text = clean("".join(sibling.itertext())).replace("更多", "").strip(" >»")
            if text and sum(1 for _ in sibling.iter("a")) > 2:
                return None  # a menu or another list, not a heading
            if text:
                if len(text) > 20 or len(text) < 2:
                    return None  # running text, not a heading
                return any(hint in text or text in hint for hint in hints)
            sibling = sibling.getprevious()
        element = element.getparent()
        if element is None or element.tag in ("body", "html"):
            return None
    return None


def _pager_ancestors(page: Page) -> dict[int, int]:
    """Elements up to four levels above a pagination link (下一页, 尾页 …), with the level."""
    marked: dict[int, int] = {}
    for anchor in page.root.iter("a"):
        text = text_of(anchor).strip().lower()
        if text not in _PAGER_TEXT:
            continue
        element = anchor.getparent()
        for level in range(1, 5):
            if element is None:
                break
            marked[id(element)] = min(level, marked.get(id(element), level))
            element = element.getparent()
    return marked
