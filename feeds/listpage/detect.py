"""Finding the list on a page without a per-site template.

Every link with a title-like text (:data:`MIN_TITLE` characters or more) is a candidate item.
Walking up from each, its ancestors are grouped as (container, child tag): the ``<li>`` of one
``<ul>``, the ``<tr>`` of one table, the ``<div class="list_item">`` of one box, the links
themselves in a flat ``<a>…</a>[11-30]<br>`` list. A group whose records each carry one
dominant title link is a candidate block; it is scored by how many records it has, how many
carry a date and how long their titles are, damped when it sits in navigation, footer,
friend-link or sidebar boxes (by class/id words) and lifted when pagination is close by. The
best block wins; records without a date keep ``published=None``.

Each record's date is, in order: a piece of its text that is only a date (``<span>``, ``[11-30]``,
a table cell; several → the latest, 发布 after 成文); a full date elsewhere in its text; the
date in its link's path. A record that has no date of its own borrows from the text between it
and the next record (or the previous one, whichever way the whole block reads), which covers
``<dt>/<dd>`` pairs and flat lists.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from feeds.listpage.dates import FoundDate, find_full_dates, link_date, piece_date
from feeds.listpage.html import (
    SKIPPED_TAGS,
    Element,
    Page,
    anchor_title,
    class_tokens,
    clean,
    pieces,
    text_of,
)
from feeds.listpage.html import safe_join as _join
from feeds.listpage.model import ListItem

MIN_TITLE = 5
MAX_ANCHORS = 6000
MAX_ITEMS = 500
_LEVELS = 7
_SINGLE_TEXT = 400
_SINGLE_LEVELS = 3
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
_CATEGORY = re.compile(r"[\[【〔(（].{1,12}[\]】〕)）]")  # 【通知公告】 before a title: a tag
_NOISE_TAGS = frozenset({"nav", "footer", "header", "aside", "marquee"})
_CRUMB_WORDS = frozenset({"breadcrumb", "crumb", "position", "location", "dqwz", "weizhi"})
_CRUMB_NAMED = re.compile("|".join(_CRUMB_WORDS))
_CRUMB_TEXT = re.compile("当前位置|您的位置|您现在的位置|所在位置|当前页面")
_PAGER_TEXT = frozenset({"下一页", "上一页", "尾页", "末页", "下页", "上页", ">>", "next"})


@dataclass(slots=True)
class Record:
    element: Element
    anchor: Element
    title: str
    link: str
    own: FoundDate | None = None
    dated: FoundDate | None = None
    linked: date | None = None


@dataclass(slots=True)
class Block:
    container: Element
    records: list[Record] = field(default_factory=list)
    score: float = 0.0
    depth: int = 0
    noisy: bool = False  # inside navigation, footer, sidebar or friend-link boxes
    shape: tuple[str, ...] = ()  # the tags from a record down to its title link

    @property
    def dated(self) -> int:
        return sum(1 for r in self.records if r.dated is not None)

    def items(self) -> list[ListItem]:
        seen: set[str] = set()
        out: list[ListItem] = []
        for record in self.records:
            if record.link in seen:
                continue
            seen.add(record.link)
            found = record.dated
            out.append(
                ListItem(
                    title=record.title,
                    link=record.link,
                    published=found.day if found else None,
                    published_time=found.at if found else None,
                    year_inferred=found is not None and not found.full,
                )
            )
        return out[:MAX_ITEMS]


def link_anchors(page: Page) -> list[tuple[Element, str, str]]:
    """``(a, absolute link, title)`` for the page's links with a title-like text."""
    out: list[tuple[Element, str, str]] = []
    body = page.root.find("body")
    root = body if body is not None else page.root
    hidden = {id(a) for box in root.iter(*SKIPPED_TAGS) for a in box.iter("a")}
    for anchor in root.iter("a"):
        if len(out) >= MAX_ANCHORS:
            break
        href = anchor.get("href")
        if not href or id(anchor) in hidden:
            continue
        if len(anchor) == 0 and len(anchor.text or "") < MIN_TITLE and not anchor.get("title"):
            continue  # a menu entry: too short to be a title whatever it holds
        title = _title(anchor, page)
        if len(title) < MIN_TITLE or _CATEGORY.fullmatch(title):
            continue
        link = _join(page.base, href)
        if link is not None:
            out.append((anchor, link, title))
    return out


def _title(anchor: Element, page: Page) -> str:
    if len(anchor) == 0:  # no child elements: the common case, without the walk
        text = anchor.text or ""
        if page_piece_date(page, text) is not None:
            text = ""
        return anchor_title(anchor, text)
    own = [text for text, owner in pieces(anchor) if owner is anchor]
    kept = [text for text in own if page_piece_date(page, text) is None]
    return anchor_title(anchor, " ".join(kept))


def page_piece_date(page: Page, text: str) -> FoundDate | None:
    """:func:`piece_date`, remembered per page (the same texts recur at every level)."""
    try:
        return page.dates[text]
    except KeyError:
        found = page.dates[text] = piece_date(text, page.today)
        return found


def find_blocks(page: Page) -> list[Block]:
    """Candidate blocks, best first. A one-record block (a column with one item) must be a
    small element around a single title link."""
    anchors = link_anchors(page)
    titles = {id(a): (a, link, title) for a, link, title in anchors}
    groups: dict[tuple[int, str], tuple[Element, dict[int, tuple[Element, list[Element]]]]] = {}
    near: set[tuple[int, str]] = set()  # groups close enough above a link to be a one-item list
    for anchor, _, _ in anchors:
        child, parent = anchor, anchor.getparent()
        for level in range(_LEVELS):
            if parent is None or parent.tag in ("html",):
                break
            key = (id(parent), child.tag)
            _, children = groups.setdefault(key, (parent, {}))
            children.setdefault(id(child), (child, []))[1].append(anchor)
            if level < _SINGLE_LEVELS:
                near.add(key)
            child, parent = parent, parent.getparent()
    marks = _landmarks(page)
    holders = frozenset(
        id(child) for _, children in groups.values() for child, _ in children.values()
    )
    blocks: list[Block] = []
    for key, (container, children) in groups.items():
        if len(children) == 1:
            if key not in near:
                continue
            element, held = next(iter(children.values()))
            if len(held) > 1 or len(text_of(element)) > _SINGLE_TEXT:
                continue
        block = _block(page, container, children, titles, marks, holders)
        if block is not None:
            blocks.append(block)
    blocks.extend(_split_lists(blocks))
    blocks.sort(key=lambda b: (b.score, b.depth), reverse=True)
    return blocks


def _split_lists(blocks: list[Block]) -> list[Block]:
    """One list printed as several sibling boxes (TRS: a ``<ul>`` per five rows, a separator
    line between): consecutive sibling containers of the same tag whose rows have the same
    shape, with nothing but empty elements between them, become one block."""
    by_container = {id(b.container): b for b in blocks if b.records}
    merged: list[Block] = []
    seen: set[int] = set()
    for block in blocks:
        parent = block.container.getparent()
        if parent is None or id(parent) in seen:
            continue
        seen.add(id(parent))
        run: list[Block] = []
        for sibling in parent:
            part = by_container.get(id(sibling))
            if part is not None and (not run or _joins(run[0], part)):
                run.append(part)
                continue
            if part is None and not "".join(sibling.itertext()).strip():
                continue  # an empty separator
            if _mergeable(run):
                merged.append(_merge(run))
            run = [part] if part is not None else []
        if _mergeable(run):
            merged.append(_merge(run))
    return merged


def _mergeable(run: list[Block]) -> bool:
    """Several boxes of rows (the last may hold one); not a row per box, which is one list
    already found at the level above."""
    return len(run) > 1 and all(len(part.records) > 1 for part in run[:-1])


def _joins(first: Block, other: Block) -> bool:
    return (
        first.container.tag == other.container.tag
        and first.shape == other.shape
        and first.noisy == other.noisy
    )


def _merge(run: list[Block]) -> Block:
    records = [r for part in run for r in part.records]
    block = Block(run[0].container, records, depth=run[0].depth, shape=run[0].shape)
    block.score = sum(part.score for part in run)
    block.noisy = run[0].noisy
    return block


def _block(
    page: Page,
    container: Element,
    children: dict[int, tuple[Element, list[Element]]],
    titles: dict[int, tuple[Element, str, str]],
    marks: Landmarks,
    holders: frozenset[int],
) -> Block | None:
    records = []
    directory = _directory(page)
    for element, anchors in children.values():
        record = _record(element, anchors, titles, directory)
        if record is not None:
            records.append(record)
    if not records or len(records) * 2 < len(children):
        return None  # most records hold several titles: a box of lists, not a list
    shapes = Counter(_shape(r) for r in records)
    shape, _ = shapes.most_common(1)[0]
    records = [r for r in records if _shape(r) == shape]  # one list's rows look alike
    block = Block(container, records, depth=_depth(container), shape=shape)
    date_records(block, page, holders)
    total = len(records)
    if block.dated * 2 < total or (total <= 3 and block.dated < total):
        return None
    length = sum(min(len(r.title), 40) for r in records) / total
    damping = _damping(container, marks)
    block.noisy = damping < 0.5
    block.score = (block.dated * 2 + total) * (length / 20) * damping * _affinity(page, records)
    return block


def _affinity(page: Page, records: list[Record]) -> float:
    """1.5 when most links live under the page's own directory (``/tzgg/index.html`` →
    ``/tzgg/202611/t…``): a column's items do, a sidebar's picks from the whole site don't."""
    directory = _directory(page)
    if directory is None:
        return 1.0
    under = sum(1 for r in records if r.link.startswith(directory))
    return 1.5 if under * 5 >= len(records) * 3 else 1.0


def _shape(record: Record) -> tuple[str, ...]:
    """The tags from the record down to its title link (``li/a``, ``table/tr/td/a``)."""
    tags = []
    element = record.anchor
    while element is not None and element is not record.element:
        tags.append(element.tag)
        element = element.getparent()
    return tuple(tags)


def _record(
    element: Element,
    anchors: list[Element],
    titles: dict[int, tuple[Element, str, str]],
    directory: str | None,
) -> Record | None:
    """The row's title link: the longest, but one into the column's own directory first (a
    row's 发布机构 link can be longer than a short title). ``None`` for a box of several
    titles."""

    def rank(entry: tuple[Element, str, str]) -> tuple[bool, int]:
        return bool(directory and entry[1].startswith(directory)), len(entry[2])

    ranked = sorted((titles[id(a)] for a in anchors), key=rank, reverse=True)
    anchor, link, title = ranked[0]
    others = sum(len(t[2]) for t in ranked[1:])
    if others >= len(title) and not (
        len(ranked) <= 3 and rank(ranked[0])[0] and not any(rank(t)[0] for t in ranked[1:])
    ):
        return None
    return Record(element, anchor, title, link)


def _directory(page: Page) -> str | None:
    """The page's own directory (``http://h/tzgg/`` for ``http://h/tzgg/index.html``), or
    ``None`` at the site root, where every link would be "under" it."""
    directory = page.url.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[0] + "/"
    return directory if directory.count("/") > 3 else None


def date_records(block: Block, page: Page, holders: frozenset[int] = frozenset()) -> None:
    """Set each record's date (see the module docstring); a record without one borrows from
    its neighbouring siblings, in the direction that dates more records of the block."""
    today = page.today
    for record in block.records:
        record.own = _date_of(pieces(record.element), record.anchor, page)
        record.linked = link_date(record.link, today)
    undated = [r for r in block.records if r.own is None]
    rows = holders | {id(r.element) for r in block.records}  # where a neighbour's text ends
    after = {id(r): _segment_date(r, page, rows, forward=True) for r in undated}
    before = {id(r): _segment_date(r, page, rows, forward=False) for r in undated}
    forward = sum(1 for d in after.values() if d) >= sum(1 for d in before.values() if d)
    use = after if forward else before
    for record in block.records:
        found = record.own or use.get(id(record))
        if found is None and record.linked is not None:
            found = FoundDate(record.linked, None, True)
        elif (
            found is not None
            and not found.full
            and record.linked is not None
            and (found.day.month, found.day.day) == (record.linked.month, record.linked.day)
        ):
            found = FoundDate(record.linked, found.at, True)
        record.dated = found


def _date_of(
    texts: Iterable[tuple[str, Element | None]], title_anchor: Element | None, page: Page
) -> FoundDate | None:
    loose: list[FoundDate] = []
    standalone: list[FoundDate] = []
    for text, owner in texts:
        found = page_piece_date(page, text)
        if found is not None:
            standalone.append(found)
        elif owner is None or owner is not title_anchor:
            loose.extend(find_full_dates(text, page.today))
    chosen = standalone or loose
    if not chosen:
        return None
    # the latest date, but not one still ahead (实施日期 beside 发布日期) when a past one is there
    limit = page.today + timedelta(days=1)
    past = [f for f in chosen if f.day <= limit] or chosen
    return max(past, key=lambda f: (f.day, f.full))


def _segment_date(
    record: Record, page: Page, rows: frozenset[int], *, forward: bool
) -> FoundDate | None:
    """The date in the text between ``record`` and the next (or previous) row of its block, or
    anything else holding a title: ``<a>…</a>[11-30]<br>``, ``<dt>``/``<dd>``, a title row and
    its date row below."""
    element = record.element
    texts: list[tuple[str, Element | None]] = []
    if forward:
        if element.tail:
            texts.append((element.tail, None))
        sibling = element.getnext()
        while sibling is not None and id(sibling) not in rows:
            texts.extend(pieces(sibling, with_tail=True))
            sibling = sibling.getnext()
    else:
        sibling = element.getprevious()
        while sibling is not None and id(sibling) not in rows:
            texts[:0] = pieces(sibling, with_tail=True)
            sibling = sibling.getprevious()
        if sibling is not None and sibling.tail:
            texts.insert(0, (sibling.tail, None))
        elif sibling is None and element.getparent() is not None and element.getparent().text:
            texts.insert(0, (element.getparent().text, None))
    if sum(len(t) for t, _ in texts) > 200:
        return None  # the text of another part of the page, not a date beside a link
    return _date_of(texts, None, page)


def _depth(element: Element) -> int:
    depth = 0
    while element is not None:
        depth += 1
        element = element.getparent()
    return depth


@dataclass(slots=True)
class Landmarks:
    """What tells the column's own list from the rest: pagination close by (element → levels
    above a 下一页 link), and the breadcrumb (当前位置) that the list follows."""

    pagers: dict[int, int]
    order: dict[int, int]  # element → position in document order
    crumb: int | None  # position of the breadcrumb
    hints: tuple[str, ...] = ()  # the column's name (see Page.hints)


def _landmarks(page: Page) -> Landmarks:
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


def _damping(container: Element, marks: Landmarks) -> float:
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
