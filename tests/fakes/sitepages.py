"""Pages of the fake government sites (:mod:`tests.fakes.sites`): the list-page layouts of the
common Chinese government CMSes, home pages, article pages, with the truth each list shows.

Layouts, as those CMSes print them (class names, nesting and date styles):

- ``trs_ul``: 拓尔思 TRS WCM, ``<ul class="list"><li><a title>…</a><span>2026-11-30</span>``;
- ``hanweb_table``: 大汉 Hanweb, one ``<table>`` per row inside a cell, ``[11-30]``;
- ``jiyue_dl``: 政府网站集约化平台, ``<dl><dt><a></dt><dd>2026/11/30</dd>`` pairs;
- ``jcms_div``: JCMS, ``<div class="list_item">`` with ``2026年11月30日``;
- ``link_only``: the date only in the link (``/202611/t20261130_12.html``);
- ``date_before``: ``<li><span class="time">2026.11.30</span><a>…</a>``;
- ``anchor_block``: the whole row a link, ``<a><span>标题</span><span>2026-11-30 10:20:00</span>``;
- ``flat_br``: links and ``(11-30)`` separated by ``<br>`` in one box;
- ``policy_table``: 政策文件 table: 序号 | 标题 | 文号 | 成文日期 | 发布日期;
- ``trs_split``: a TRS list cut into one ``<ul>`` per five rows with a separator between.

Around every list: a top navigation bar, a breadcrumb, a left column menu, optionally a
sidebar of dated "热点" items and a friend-links box, pagination, and a footer with dates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from html import escape
from urllib.parse import urljoin


class Layout(StrEnum):
    TRS_UL = "trs_ul"
    HANWEB_TABLE = "hanweb_table"
    JIYUE_DL = "jiyue_dl"
    JCMS_DIV = "jcms_div"
    LINK_ONLY = "link_only"
    DATE_BEFORE = "date_before"
    ANCHOR_BLOCK = "anchor_block"
    FLAT_BR = "flat_br"
    POLICY_TABLE = "policy_table"
    TRS_SPLIT = "trs_split"  # TRS lists cut into a <ul> per five rows, a line between


class DateStyle(StrEnum):
    DASH = "dash"  # 2026-11-30
    CHINESE = "chinese"  # 2026年11月30日
    DOT = "dot"  # 2026.11.30
    SLASH = "slash"  # 2026/11/30
    BRACKET = "bracket"  # [11-30]
    PAREN = "paren"  # (11-30)
    DATETIME = "datetime"  # 2026-11-30 10:20:00
    NONE = "none"  # only in the link


class LinkStyle(StrEnum):
    TRS = "trs"  # ./202611/t20261130_12.html
    ART = "art"  # /site/art/2026/11/30/art_3_12.html
    YMD = "ymd"  # /site/col/2026/11/30/12.html
    PLAIN = "plain"  # /site/col/content_12.html (no date)
    BASE = "base"  # <base href="/site/col/"> and content_12.html


DATED_LINKS = (LinkStyle.TRS, LinkStyle.ART, LinkStyle.YMD)


@dataclass(slots=True)
class SiteItem:
    title: str
    published: datetime  # Beijing time, naive
    id: int = 0
    number: str = ""  # 文号 for policy documents


@dataclass(slots=True)
class Column:
    slug: str
    name: str
    column_class: str = "动态要闻"
    layout: Layout = Layout.TRS_UL
    date_style: DateStyle = DateStyle.DASH
    link_style: LinkStyle = LinkStyle.PLAIN
    encoding: str = "utf-8"
    declare: str = "meta"  # meta | header | both | none
    page_size: int = 20
    items: list[SiteItem] = field(default_factory=list)
    sidebar: bool = False  # a dated 热点 box beside the list
    truncate: bool = False  # titles cut to 16 characters, the full one in title=""
    noisy: bool = False  # a dated news ticker in the header, category links, a related-links box


@dataclass(slots=True)
class ExpectedItem:
    title: str
    link: str
    published: date
    time: str | None  # "10:20:00" when the page prints it


def item_href(site: str, column: Column, item: SiteItem) -> str:
    day = item.published
    style = column.link_style
    if style is LinkStyle.TRS:
        return f"./{day:%Y%m}/t{day:%Y%m%d}_{item.id}.html"
    if style is LinkStyle.ART:
        return f"/{site}/art/{day:%Y/%m/%d}/art_{len(column.slug)}_{item.id}.html"
    if style is LinkStyle.YMD:
        return f"/{site}/{column.slug}/{day:%Y/%m/%d}/{item.id}.html"
    if style is LinkStyle.BASE:
        return f"content_{item.id}.html"
    return f"/{site}/{column.slug}/content_{item.id}.html"


def print_date(style: DateStyle, when: datetime) -> str:
    return {
        DateStyle.DASH: f"{when:%Y-%m-%d}",
        DateStyle.CHINESE: f"{when.year}年{when.month}月{when.day}日",
        DateStyle.DOT: f"{when:%Y.%m.%d}",
        DateStyle.SLASH: f"{when:%Y/%m/%d}",
        DateStyle.BRACKET: f"[{when:%m-%d}]",
        DateStyle.PAREN: f"({when:%m-%d})",
        DateStyle.DATETIME: f"{when:%Y-%m-%d %H:%M:%S}",
        DateStyle.NONE: "",
    }[style]


def _row(site: str, column: Column, item: SiteItem, index: int) -> str:
    href = escape(item_href(site, column, item))
    full = escape(item.title)
    shown = full
    attr = ""
    if column.truncate and len(item.title) > 16:
        shown, attr = escape(item.title[:16]) + "...", f' title="{full}"'
    when = escape(print_date(column.date_style, item.published))
    a = f'<a href="{href}" target="_blank"{attr}>{shown}</a>'
    match column.layout:
        case Layout.TRS_UL | Layout.LINK_ONLY | Layout.TRS_SPLIT:
            span = f"<span>{when}</span>" if when else ""
            category = (
                f'<a class="lm" href="/{site}/{column.slug}/index.html">[{escape(column.name)}]</a>'
                if column.noisy
                else ""
            )
            return f"<li>{category}{a}{span}</li>"
        case Layout.HANWEB_TABLE:
            return (
                '<table width="100%" border="0" cellspacing="0"><tr>'
                f'<td width="15">·</td><td align="left">{a}</td>'
                f'<td class="bt_time" width="80" align="right">{when}</td></tr></table>'
            )
        case Layout.JIYUE_DL:
            return f"<dt>{a}</dt><dd>{when}</dd>"
        case Layout.JCMS_DIV:
            return f'<div class="list_item">{a}<span class="date">{when}</span></div>'
        case Layout.DATE_BEFORE:
            return f'<li><span class="time">{when}</span>{a}</li>'
        case Layout.ANCHOR_BLOCK:
            return (
                f'<a class="news-item" href="{href}"><span class="tit">{full}</span>'
                f'<span class="date">{when}</span></a>'
            )
        case Layout.FLAT_BR:
            return f"{a}&nbsp;{when}<br/>"
        case Layout.POLICY_TABLE:
            earlier = item.published.replace(day=max(1, item.published.day - 2))
            return (
                f"<tr><td>{index}</td><td class='tit'>{a}</td><td>{escape(item.number)}</td>"
                f"<td>{print_date(column.date_style, earlier)}</td><td>{when}</td></tr>"
            )
    raise AssertionError(column.layout)


_OPEN = {
    Layout.TRS_UL: ('<ul class="list">', "</ul>"),
    Layout.LINK_ONLY: ('<ul class="list-ul">', "</ul>"),
    Layout.TRS_SPLIT: ('<div class="list-box"><ul class="list">', "</ul></div>"),
    Layout.HANWEB_TABLE: ('<table width="100%"><tr><td id="list_td">', "</td></tr></table>"),
    Layout.JIYUE_DL: ('<div class="news_list"><dl class="xxgk_list">', "</dl></div>"),
    Layout.JCMS_DIV: ('<div class="list_box">', "</div>"),
    Layout.DATE_BEFORE: ('<ul class="newslist">', "</ul>"),
    Layout.ANCHOR_BLOCK: ('<div class="news-list">', "</div>"),
    Layout.FLAT_BR: ('<div class="con">', "</div>"),
    Layout.POLICY_TABLE: (
        '<table class="zcwj"><tr><th>序号</th><th>标题</th><th>文号</th>'
        "<th>成文日期</th><th>发布日期</th></tr>",
        "</table>",
    ),
}


def page_items(column: Column, page: int) -> list[SiteItem]:
    start = page * column.page_size
    return column.items[start : start + column.page_size]


def page_count(column: Column) -> int:
    return max(1, -(-len(column.items) // column.page_size))


def list_path(site: str, column: Column, page: int = 0) -> str:
    return f"/{site}/{column.slug}/index{'' if page == 0 else f'_{page}'}.html"


def _head(title: str, column_encoding: str, declare: str) -> str:
    label = {"gb18030": "gb18030", "gbk": "gb2312"}.get(column_encoding, "utf-8")
    meta = ""
    if declare in ("meta", "both"):
        meta = (
            f'<meta http-equiv="Content-Type" content="text/html; charset={label}">'
            if label != "utf-8"
            else '<meta charset="utf-8">'
        )
    return (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN">\n<html><head>'
        f"{meta}<title>{escape(title)}</title>"
        "<script>var _hmt=_hmt||[];document.write('<a href=\"/x\">2026-01-01 统计</a>');"
        "</script><style>.list li{float:left}</style></head>"
    )


def _chrome_top(site: str, site_name: str, columns: list[Column]) -> str:
    nav = "".join(
        f'<li><a href="/{site}/{c.slug}/index.html">{escape(c.name)}</a></li>' for c in columns
    )
    return (
        f'<div class="header"><div class="logo"><a href="/{site}/">{escape(site_name)}</a></div>'
        '<div class="search"><form><input name="q"><a href="javascript:void(0)">搜索</a></form>'
        f'</div></div><div class="nav"><ul><li><a href="/{site}/">首页</a></li>{nav}</ul></div>'
    )


def _sidebar(site: str, column: Column, rng: random.Random) -> str:
    if not column.sidebar:
        return ""
    rows = "".join(
        f'<li><a href="/{site}/hot/{rng.randint(1, 9999)}.html">{escape(rng.choice(HOT))}</a>'
        f"<span>{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}</span></li>"
        for _ in range(rng.randint(3, 6))
    )
    return f'<div class="side-hot"><h3>热点信息</h3><ul class="hot-list">{rows}</ul></div>'


FRIENDS = (
    ("中国政府网", "http://www.gov.cn/"),
    ("浙江省人民政府门户网站", "http://www.zj.gov.cn/"),
    ("国家市场监督管理总局", "http://www.samr.gov.cn/"),
    ("中华人民共和国生态环境部", "http://www.mee.gov.cn/"),
)
HOT = (
    "全区经济运行情况新闻发布会召开",
    "我区入选省级营商环境示范区",
    "关于开展冬季安全生产大检查的通知",
    "区长信箱办理情况公示",
)


def _ticker(site: str, column: Column, rng: random.Random) -> str:
    if not column.noisy:
        return ""
    rows = "".join(
        f'<a href="/{site}/art/2026/{rng.randint(1, 11)}/{rng.randint(1, 28)}/art_9_{n}.html">'
        f"{escape(HOT[n % len(HOT)])}</a>[{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}]"
        for n in range(rng.randint(4, 8))
    )
    return f'<div class="gundong"><span>最新动态：</span><marquee>{rows}</marquee></div>'


def _related(column: Column) -> str:
    if not column.noisy:
        return ""
    rows = "".join(f'<li><a href="{u}">{escape(n)}（相关链接）</a></li>' for n, u in FRIENDS)
    return f'<div class="xglj"><h4>相关链接</h4><ul>{rows}</ul></div>'


def _friends() -> str:
    links = "".join(f'<li><a href="{u}" target="_blank">{escape(n)}</a></li>' for n, u in FRIENDS)
    return f'<div class="yqlj"><div class="tit">友情链接</div><ul>{links}</ul></div>'


def _footer(site_name: str) -> str:
    return (
        f'<div class="footer"><p>主办单位：{escape(site_name)}办公室 '
        '<a href="/about/contact.html">联系我们</a> <a href="/about/map.html">网站地图</a></p>'
        "<p>网站标识码：3301000001 浙ICP备05012345号 网站更新时间：2026-01-05</p></div>"
    )


def _pager(site: str, column: Column, page: int) -> str:
    pages = page_count(column)
    if pages <= 1:
        return ""
    numbers = "".join(
        f'<a href="{list_path(site, column, n)}">{n + 1}</a>' for n in range(min(pages, 5))
    )
    last = list_path(site, column, pages - 1)
    nxt = list_path(site, column, min(page + 1, pages - 1))
    return (
        f'<div class="pagination">共 {pages} 页 <a href="{list_path(site, column, 0)}">首页</a>'
        f'{numbers}<a href="{nxt}">下一页</a><a href="{last}">尾页</a></div>'
    )


def render_list(
    site: str, site_name: str, columns: list[Column], column: Column, page: int, page_url: str
) -> tuple[str, list[ExpectedItem]]:
    """A column's list page ``page`` and the items a reader sees on it."""
    rng = random.Random(f"{site}/{column.slug}/{page}")
    shown = page_items(column, page)
    if shown:
        open_, close = _OPEN[column.layout]
        rows = "".join(
            _row(site, column, item, i + 1)
            + (
                '</ul><div class="line"></div><ul class="list">'
                if column.layout is Layout.TRS_SPLIT and i % 5 == 4 and i + 1 < len(shown)
                else ""
            )
            for i, item in enumerate(shown)
        )
        listing = f"{open_}{rows}{close}{_pager(site, column, page)}"
    else:
        listing = '<div class="no-data">暂无信息</div>'
    base = f'<base href="/{site}/{column.slug}/">' if column.link_style is LinkStyle.BASE else ""
    menu = "".join(
        f'<li><a href="/{site}/{c.slug}/index.html">{escape(c.name)}</a></li>' for c in columns
    )
    html = (
        _head(f"{column.name}_{site_name}", column.encoding, column.declare).replace(
            "</head>", f"{base}</head>"
        )
        + f"<body>{_chrome_top(site, site_name, columns)}{_ticker(site, column, rng)}"
        f'<div class="container"><div class="left"><div class="lm-title">{escape(column.name)}'
        f'</div><ul class="lm-menu">{menu}</ul>{_sidebar(site, column, rng)}</div>'
        f'<div class="right"><div class="breadcrumb">当前位置：<a href="/{site}/">首页</a> &gt; '
        f'<a href="{list_path(site, column)}">{escape(column.name)}</a></div>'
        f'<div class="main-list">{listing}</div>{_related(column)}</div></div>{_friends()}'
        f"{_footer(site_name)}"
        "</body></html>"
    )
    link_base = urljoin(page_url, f"/{site}/{column.slug}/") if base else page_url
    expected = [
        ExpectedItem(
            item.title,
            urljoin(link_base, item_href(site, column, item)),
            item.published.date(),
            f"{item.published:%H:%M:%S}" if column.date_style is DateStyle.DATETIME else None,
        )
        for item in shown
    ]
    return html, expected


def render_home(site: str, site_name: str, columns: list[Column], *, portal: bool) -> str:
    """The home page: latest items of the dynamic columns, or (``portal``) only tiles."""
    head = _head(site_name, "utf-8", "meta")
    if portal:
        tiles = "".join(
            f'<div class="tile"><a href="/{site}/{c.slug}/index.html"><img src="/i/{i}.png" '
            f'alt="{escape(c.name)}"><p>{escape(c.name)}</p></a></div>'
            for i, c in enumerate(columns)
        )
        body = f'<div class="portal-tiles">{tiles}</div>'
    else:
        boxes = []
        for column in columns:
            if not column.items or column.column_class not in ("动态要闻", "通知公告"):
                continue
            rows = "".join(
                f'<li><a href="{escape(item_href(site, column, item))}">{escape(item.title)}</a>'
                f"<span>{item.published:%m-%d}</span></li>"
                for item in column.items[:6]
            )
            boxes.append(
                f'<div class="index-box"><div class="box-tit"><a href="/{site}/{column.slug}/'
                f'index.html">{escape(column.name)}</a><a class="more" href="/{site}/'
                f'{column.slug}/index.html">更多</a></div><ul>{rows}</ul></div>'
            )
        body = f'<div class="index-main">{"".join(boxes)}</div>'
    return (
        f"{head}<body>{_chrome_top(site, site_name, columns)}{body}{_friends()}"
        f"{_footer(site_name)}</body></html>"
    )


def render_article(site_name: str, item: SiteItem) -> str:
    return (
        f'<html><head><meta charset="utf-8"><title>{escape(item.title)}</title></head><body>'
        f"<h1>{escape(item.title)}</h1><div class='info'>发布时间：{item.published:%Y-%m-%d %H:%M}"
        f" 来源：{escape(site_name)}</div><div class='content'><p>正文。</p></div></body></html>"
    )
