"""Column list pages: every farm layout and date style, encodings, the selector fallback,
portal pages, navigation links, and input that must never raise."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loguru import logger

from feeds.listpage import (
    ExtractMethod,
    ListPage,
    NoItemsReason,
    article_date,
    extract_items,
    looks_like_portal,
    navigation_links,
    selector_problem,
)
from tests.fakes.sitepages import DATED_LINKS, Column, DateStyle, Layout, LinkStyle, SiteItem
from tests.fakes.sites import SiteFarm

TODAY = date(2026, 12, 1)
URL = "http://127.0.0.1:8080/site/col/index.html"


@pytest.fixture
def errors() -> Iterator[list[str]]:
    """Warnings logged by the extractor: a caught exception is a bug even if nothing raised."""
    seen: list[str] = []
    sink = logger.add(lambda message: seen.append(str(message)), level="WARNING")
    yield seen
    logger.remove(sink)


def _items(count: int, *, start: date = date(2026, 11, 30)) -> list[SiteItem]:
    titles = (
        "区政府召开常务会议研究部署冬季安全生产",
        "关于11月30日停电检修安排的通知",
        "2026年第三季度重点工作推进情况通报",
        "区市场监管局开展消费者权益保护宣传",
    )
    return [
        SiteItem(
            f"{titles[n % len(titles)]}（{n}）",
            datetime.combine(date.fromordinal(start.toordinal() - 3 * n), time(9 + n % 8, 30)),
            number=f"区政办发〔2026〕{n + 1}号",
        )
        for n in range(count)
    ]


def _farm_page(column: Column, *, page: int = 0) -> tuple[ListPage, SiteFarm]:
    farm = SiteFarm(today=TODAY)
    farm.add_site("qzf", "某某区人民政府", [column, Column("tzgg", "通知公告")])
    body, content_type, url = farm.render_column("qzf", column.slug, page)
    return extract_items(body, url=url, content_type=content_type, today=TODAY), farm


def _assert_matches(result: ListPage, farm: SiteFarm, column: str, page: int = 0) -> None:
    expected = farm.expected("qzf", column, page)
    assert result.method is ExtractMethod.DETECTED, result.reason
    assert [(i.title, i.link, i.published) for i in result.items] == [
        (e.title, e.link, e.published) for e in expected
    ]


@pytest.mark.parametrize("layout", list(Layout))
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_every_layout_in_both_encodings(layout: Layout, encoding: str, errors: list[str]) -> None:
    style = DateStyle.NONE if layout is Layout.LINK_ONLY else DateStyle.DASH
    links = LinkStyle.TRS if layout is Layout.LINK_ONLY else LinkStyle.PLAIN
    column = Column("xwdt", "新闻动态", layout=layout, date_style=style, link_style=links,
                    encoding=encoding, items=_items(12), sidebar=True)  # fmt: skip
    result, farm = _farm_page(column)
    _assert_matches(result, farm, "xwdt")
    assert result.encoding == ("gb18030" if encoding == "gbk" else "utf-8")
    assert not errors


@pytest.mark.parametrize("style", [s for s in DateStyle if s is not DateStyle.NONE])
@pytest.mark.parametrize("layout", [Layout.TRS_UL, Layout.HANWEB_TABLE, Layout.FLAT_BR])
def test_every_date_style(style: DateStyle, layout: Layout) -> None:
    column = Column("xwdt", "新闻动态", layout=layout, date_style=style, items=_items(8))
    result, farm = _farm_page(column)
    _assert_matches(result, farm, "xwdt")
    times = {i.published_time for i in result.items}
    assert times == ({time(9 + n % 8, 30) for n in range(8)} if style is DateStyle.DATETIME
                     else {None})  # fmt: skip


@pytest.mark.parametrize("links", DATED_LINKS)
def test_date_only_in_the_link(links: LinkStyle) -> None:
    column = Column("gzdt", "工作动态", layout=Layout.LINK_ONLY, date_style=DateStyle.NONE,
                    link_style=links, items=_items(6))  # fmt: skip
    result, farm = _farm_page(column)
    _assert_matches(result, farm, "gzdt")


def test_base_href_truncated_titles_and_second_page() -> None:
    column = Column("tzgg2", "通知公告", layout=Layout.TRS_UL, link_style=LinkStyle.BASE,
                    truncate=True, page_size=5, items=_items(12))  # fmt: skip
    first, farm = _farm_page(column)
    _assert_matches(first, farm, "tzgg2")
    assert (
        first.items[0].link
        == "http://127.0.0.1:0/qzf/tzgg2/content_" + (first.items[0].link.rsplit("_", 1)[1])
    )
    assert len(first.items[1].title) > 16  # the full title="" rather than the cut text
    second, farm = _farm_page(column, page=1)
    _assert_matches(second, farm, "tzgg2", page=1)


def test_one_item_column_beats_a_dated_sidebar() -> None:
    column = Column("xwdt", "新闻动态", items=_items(1), sidebar=True)
    result, farm = _farm_page(column)
    _assert_matches(result, farm, "xwdt")


def test_empty_column_says_so() -> None:
    result, _ = _farm_page(Column("xwdt", "新闻动态", sidebar=True))
    assert result.method is ExtractMethod.NONE
    assert result.reason is NoItemsReason.EMPTY_NOTICE
    assert result.reason.label == "栏目页面显示暂无信息"


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30", date(2026, 11, 30)),
        ("2026年11月30日", date(2026, 11, 30)),
        ("2026.11.30", date(2026, 11, 30)),
        ("2026/11/30", date(2026, 11, 30)),
        ("[11-30]", date(2026, 11, 30)),
        ("(11-30)", date(2026, 11, 30)),
        ("（12-25）", date(2025, 12, 25)),  # after today: last year's
        ("11月30日", date(2026, 11, 30)),
        ("发布时间：2026-11-30 10:20:00", date(2026, 11, 30)),
        ("２０２６－１１－３０", date(2026, 11, 30)),
        ("日期: 2026-1-5", date(2026, 1, 5)),
    ],
)
def test_date_pieces(text: str, expected: date) -> None:
    html = f'<ul><li><a href="/a/1">区政府召开常务会议一</a><span>{text}</span></li>' \
           f'<li><a href="/a/2">区政府召开常务会议二</a><span>{text}</span></li></ul>'  # fmt: skip
    result = extract_items(html.encode(), url=URL, today=TODAY)
    assert [i.published for i in result.items] == [expected, expected]


def test_dates_inside_titles_are_not_publication_dates() -> None:
    html = (
        '<ul><li><a href="/a/1">关于11月30日停电的通知</a><span>2026-11-02</span></li>'
        '<li><a href="/a/2">2026年10月1日起施行的新规解读</a><span>2026-09-28</span></li></ul>'
    )
    result = extract_items(html.encode(), url=URL, today=TODAY)
    assert [i.published for i in result.items] == [date(2026, 11, 2), date(2026, 9, 28)]
    assert result.items[0].title == "关于11月30日停电的通知"


def test_the_latest_of_several_dates_and_index_numbers_ignored() -> None:
    rows = "".join(
        f'<tr><td>330127/2026-0012{n}</td><td><a href="/z/{n}.html">关于印发实施方案的通知{n}</a>'
        f"</td><td>2026-11-1{n}</td><td>2026-11-2{n}</td></tr>"
        for n in range(3)
    )
    result = extract_items(f"<table>{rows}</table>".encode(), url=URL, today=TODAY)
    assert [i.published for i in result.items] == [date(2026, 11, 20 + n) for n in range(3)]


def test_year_less_dates_across_new_year() -> None:
    rows = "".join(
        f'<li><a href="/n/{n}">县领导新年走访慰问活动{n}</a>[{md}]</li>'
        for n, md in enumerate(["01-04", "12-30", "02-29"])
    )
    result = extract_items(f"<ul>{rows}</ul>".encode(), url=URL, today=date(2027, 1, 5))
    assert [i.published for i in result.items] == [
        date(2027, 1, 4), date(2026, 12, 30), date(2024, 2, 29)
    ]  # fmt: skip


# ---------------------------------------------------------------- encodings


TITLE = "镕基路喆园小区供水管网改造工程公示"  # 镕 and 喆 are GBK, not GB2312


@pytest.mark.parametrize(
    ("encoding", "content_type", "meta", "expected"),
    [
        ("gbk", None, '<meta charset="gb2312">', "gb18030"),
        ("gbk", "text/html; charset=GBK", "", "gb18030"),
        ("gb18030", "text/html", "", "gb18030"),  # nothing declared: guessed
        ("utf-8", "text/html; charset=utf-8", '<meta charset="gbk">', "utf-8"),
        ("gbk", "text/html; charset=utf-8", '<meta charset="gbk">', "gb18030"),  # header wrong
        ("utf-8-sig", None, "", "utf-8"),
        ("utf-16", None, "", "utf-16"),
    ],
)
def test_encodings(encoding: str, content_type: str | None, meta: str, expected: str) -> None:
    rows = "".join(
        f'<li><a href="/n/{n}.html">{TITLE}{n}</a><span>2026-11-2{n}</span></li>' for n in range(4)
    )
    html = f"<html><head>{meta}<title>公示公告</title></head><body><ul>{rows}</ul></body></html>"
    body = html.encode(encoding)
    result = extract_items(body, url=URL, content_type=content_type, today=TODAY)
    assert result.encoding == expected
    assert [i.title for i in result.items] == [
        f"镕基路喆园小区供水管网改造工程公示{n}" for n in range(4)
    ]


def test_bom_wins_over_a_wrong_header() -> None:
    body = codecs.BOM_UTF8 + '<ul><li><a href="/1">通知公告第一条</a>2026-11-30</li></ul>'.encode()
    result = extract_items(body, url=URL, content_type="text/html; charset=gbk", today=TODAY)
    assert result.items[0].title == "通知公告第一条"


# ---------------------------------------------------------------- selector


UNDATED = (
    '<div class="nav"><a href="/a">首页</a></div><div class="wz">'
    + "".join(f'<p class="row"><a href="/w/{n}.html">政务公开目录第{n}项</a></p>' for n in range(5))
    + "</div>"
)


def test_selector_when_detection_finds_nothing() -> None:
    detected = extract_items(UNDATED.encode(), url=URL, today=TODAY)
    assert detected.method is ExtractMethod.NONE
    assert detected.reason is NoItemsReason.NO_DATED_BLOCK
    chosen = extract_items(UNDATED.encode(), url=URL, selector="div.wz p.row", today=TODAY)
    assert chosen.method is ExtractMethod.SELECTOR
    assert [i.title for i in chosen.items] == [f"政务公开目录第{n}项" for n in range(5)]
    assert chosen.items[0].link == "http://127.0.0.1:8080/w/0.html"
    assert all(i.published is None for i in chosen.items)


def test_selector_dates_and_anchor_selector() -> None:
    column = Column("xwdt", "新闻动态", layout=Layout.JCMS_DIV, date_style=DateStyle.CHINESE,
                    items=_items(5))  # fmt: skip
    farm = SiteFarm(today=TODAY)
    farm.add_site("qzf", "某某区人民政府", [column])
    body, content_type, url = farm.render_column("qzf", "xwdt")
    expected = [(e.link, e.published) for e in farm.expected("qzf", "xwdt")]
    for selector in ("div.list_item", ".list_box > .list_item > a"):
        result = extract_items(body, url=url, content_type=content_type, selector=selector,
                               today=TODAY)  # fmt: skip
        assert result.method is ExtractMethod.SELECTOR
        assert [(i.link, i.published) for i in result.items] == expected


@pytest.mark.parametrize(
    ("selector", "reason"),
    [
        ("div[[", NoItemsReason.BAD_SELECTOR),
        ("ul.nothing-here > li", NoItemsReason.SELECTOR_MATCHED_NOTHING),
        ("div.nav", NoItemsReason.SELECTOR_NO_ITEMS),
    ],
)
def test_selector_failures(selector: str, reason: NoItemsReason) -> None:
    page = UNDATED.replace('href="/a">首页', ">首页")
    result = extract_items(page.encode(), url=URL, selector=selector, today=TODAY)
    assert (result.method, result.reason) == (ExtractMethod.NONE, reason)


# ---------------------------------------------------------------- home pages


def _home(portal: bool) -> tuple[bytes, str]:
    farm = SiteFarm(today=TODAY)
    farm.add_site("qzf", "某某区人民政府", [
        Column("xwdt", "新闻动态", items=_items(8)),
        Column("tzgg", "通知公告", column_class="通知公告", items=_items(3)),
        Column("zcwj", "政策文件", column_class="政策文件", items=_items(2)),
    ], portal=portal)  # fmt: skip
    from tests.fakes.sitepages import render_home

    site = farm.sites["qzf"]
    html = render_home("qzf", site.name, list(site.columns.values()), portal=portal)
    return html.encode(), "http://127.0.0.1:8080/qzf/"


def test_portal_home_page() -> None:
    body, url = _home(portal=True)
    assert looks_like_portal(body, url=url)
    assert navigation_links(body, url=url) == [
        f"http://127.0.0.1:8080/qzf/{c}/index.html" for c in ("xwdt", "tzgg", "zcwj")
    ]


def test_home_page_with_news_is_not_a_portal_and_gives_all_blocks() -> None:
    body, url = _home(portal=False)
    assert not looks_like_portal(body, url=url)
    best = extract_items(body, url=url, today=TODAY)
    every = extract_items(body, url=url, today=TODAY, all_blocks=True)
    assert len(best.items) == 6  # the news box
    assert len(every.items) == 6 + 3  # and the notices box
    assert every.items[0].published == date(2026, 11, 30)


def test_navigation_links_stay_on_the_site() -> None:
    html = (
        '<div id="menu"><a href="/zwgk/">政务公开</a><a href="http://www.gov.cn/">中国政府网</a>'
        '<a href="javascript:;">更多</a><a href="/files/a.pdf">附件</a><a href="/zwgk/">重复</a>'
        '<a href="https://www.example.gov.cn/bsfw/">办事服务</a></div>'
    )
    links = navigation_links(html.encode(), url="https://example.gov.cn/")
    assert links == ["https://example.gov.cn/zwgk/", "https://www.example.gov.cn/bsfw/"]


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", NoItemsReason.EMPTY_BODY),
        (b"   \n", NoItemsReason.EMPTY_BODY),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, NoItemsReason.NOT_HTML),
        (b'{"items": []}', NoItemsReason.NOT_HTML),
        (b"<html><body><p>hello</p></body></html>", NoItemsReason.NO_LINKS),
        (b"<html><body>\x00\x01<a href='/x'>\x00\x00</a></body>", NoItemsReason.NO_DATED_BLOCK),
    ],
)
def test_garbage(body: bytes, reason: NoItemsReason, errors: list[str]) -> None:
    result = extract_items(body, url=URL, today=TODAY)
    assert (result.method, result.reason, result.items) == (ExtractMethod.NONE, reason, [])
    assert not errors


def test_broken_html_and_bad_links(errors: list[str]) -> None:
    html = (
        "<html><body><ul><li><a href='http://[::1'>坏链接的标题文字一</a><span>2026-11-30"
        "<li><a href='javascript:void(0)'>脚本链接的标题文字</a><span>2026-11-29</span>"
        "<li><a href='/ok/1.html'>正常链接的标题文字一<span>2026-11-28</span>"
        "<li><a href='/ok/2.html'>正常链接的标题文字二</a><span>2026-11-27</td></table>"
    )
    result = extract_items(html.encode(), url=URL, today=TODAY)
    links = {i.link for i in result.items}  # libxml2 nests the unclosed rows in each other
    assert "http://127.0.0.1:8080/ok/2.html" in links
    assert links <= {"http://127.0.0.1:8080/ok/1.html", "http://127.0.0.1:8080/ok/2.html"}
    assert not errors


def test_deep_nesting_and_huge_pages(errors: list[str]) -> None:
    deep = b"<div>" * 20000 + b"<a href='/x'>very deep link</a>" + b"</div>" * 20000
    assert extract_items(deep, url=URL, today=TODAY).method is ExtractMethod.NONE
    row = '<li><a href="/n/{n}.html">区政府召开第{n}次常务会议</a><span>2026-11-30</span></li>'
    rows = "".join(row.format(n=n) for n in range(60000))
    huge = f"<ul>{rows}</ul>".encode()
    assert len(huge) > 5 * 1024 * 1024
    result = extract_items(huge, url=URL, today=TODAY)
    assert result.method is ExtractMethod.DETECTED
    assert len(result.items) == 500  # the item cap
    assert not errors


_FRAGMENTS = st.sampled_from(
    ["<ul>", "</ul>", "<li>", "<a href='/a/1'>", "<a href=x>", "</a>", "<span>", "</span>",
     "2026-11-30", "[11-30]", "(02-29)", "2026年13月40日", "关于开展工作的通知", "<table>", "<tr>",
     "<td>", "<dl><dt>", "<dd>", "<br>", "<base href='http://[x'>", "<script>", "</script>",
     "<!--", "-->", "<![CDATA[", "<datastore>", "&#0;", "&nbsp;", "\x00", "\ufeff",
     "<meta charset=gbk>", "<a href='/t20261130_1.html'>", "<div class='nav'>", "</div>",
     "暂无信息"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_FRAGMENTS | st.text(max_size=20), max_size=60),
    st.sampled_from(["utf-8", "gbk", "utf-16"]),
)
def test_fuzz_html_never_raises(parts: list[str], encoding: str) -> None:
    body = "".join(parts).encode(encoding, errors="ignore")
    seen: list[str] = []
    sink = logger.add(lambda message: seen.append(str(message)), level="WARNING")
    try:
        for selector in (None, "li", "a"):
            result = extract_items(body, url=URL, selector=selector, today=TODAY)
            assert isinstance(result, ListPage)
            assert all(i.link.startswith("http") and i.title for i in result.items)
        looks_like_portal(body, url=URL)
        navigation_links(body, url=URL)
    finally:
        logger.remove(sink)
    assert not seen


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.sampled_from([None, "text/html; charset=gbk", "charset=x"]))
def test_fuzz_bytes_never_raise(body: bytes, content_type: str | None) -> None:
    result = extract_items(body, url=URL, content_type=content_type, today=TODAY)
    assert isinstance(result, ListPage)


def test_relative_dates_and_dates_ahead() -> None:
    html = (
        '<ul><li><a href="/a/1">区政府召开常务会议第一条</a><span>3小时前</span></li>'
        '<li><a href="/a/2">区政府召开常务会议第二条</a><span>昨天</span></li>'
        '<li><a href="/a/3">区政府召开常务会议第三条</a><span>发布于 5天前</span></li></ul>'
        '<table><tr><td><a href="/p/1">关于印发某某管理办法的通知一</a></td><td>2026-11-20</td>'
        "<td>2027-01-01</td></tr><tr><td><a href='/p/2'>关于印发某某管理办法的通知二</a></td>"
        "<td>2026-11-10</td><td>2027-01-01</td></tr></table>"
    )
    best = extract_items(html.encode(), url=URL, today=TODAY, all_blocks=True)
    assert [i.published for i in best.items] == [
        date(2026, 12, 1), date(2026, 11, 30), date(2026, 11, 26),
        date(2026, 11, 20), date(2026, 11, 10),  # 实施日期 2027-01-01 is not when it appeared
    ]  # fmt: skip


def test_category_tags_and_tickers_are_not_items() -> None:
    column = Column("xwdt", "新闻动态", items=_items(1), noisy=True, link_style=LinkStyle.ART)
    result, farm = _farm_page(column)
    _assert_matches(result, farm, "xwdt")


@pytest.mark.parametrize(
    ("selector", "problem"),
    [
        ("ul.list > li", None),
        ("#content .list_item:nth-child(n+2)", None),
        ("div[[", NoItemsReason.BAD_SELECTOR),
        ("", NoItemsReason.BAD_SELECTOR),
        ("li" * 300, NoItemsReason.BAD_SELECTOR),
        ("li:foo", NoItemsReason.BAD_SELECTOR),
        ("ul >", NoItemsReason.BAD_SELECTOR),
    ],
)
def test_selector_problem(selector: str, problem: NoItemsReason | None) -> None:
    assert selector_problem(selector) is problem


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_fuzz_selectors_never_raise(selector: str) -> None:
    page = extract_items(UNDATED.encode(), url=URL, selector=selector, today=TODAY)
    if selector_problem(selector) is not None and selector.strip():
        assert page.reason is NoItemsReason.BAD_SELECTOR


def test_year_inferred_is_flagged() -> None:
    html = (
        '<ul><li><a href="/n/1.html">县领导新年走访慰问活动一</a>[11-30]</li>'
        '<li><a href="/art/2025/11/29/art_1_2.html">县领导新年走访慰问活动二</a>[11-29]</li>'
        '<li><a href="/n/3.html">县领导新年走访慰问活动三</a>2026-11-28</li></ul>'
    )
    result = extract_items(html.encode(), url=URL, today=TODAY)
    assert [(i.published, i.year_inferred) for i in result.items] == [
        (date(2026, 11, 30), True), (date(2025, 11, 29), False), (date(2026, 11, 28), False)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<html><head><meta name="PubDate" content="2025-11-30 10:20"></head><body>x</body>',
         date(2025, 11, 30)),
        ("<html><body><p>索引号：330100/2026-00123</p><div>来源：区政府 发布时间：2025年11月30日"
         "</div><p>2026年1月1日起施行</p></body></html>", date(2025, 11, 30)),
        ("<html><body><h1>标题</h1><p>2024-05-06</p></body></html>", date(2024, 5, 6)),
        ("<html><body><h1>没有日期</h1></body></html>", None),
        ("", None),
    ],
)  # fmt: skip
def test_article_date(html: str, expected: date | None) -> None:
    assert article_date(html.encode(), url=URL, today=TODAY) == expected


def test_article_date_of_a_farm_item() -> None:
    from tests.fakes.sitepages import render_article

    item = _items(1)[0]
    body = render_article("某某区人民政府", item).encode()
    assert article_date(body, url=URL, today=TODAY) == item.published.date()


def _labelled() -> list[object]:
    """The labelled pages; a known miss is a strict xfail, so a fix shows up."""
    cases: list[object] = []
    for label in sorted((Path(__file__).parent.parent / "data" / "listpages").glob("*.json")):
        miss = json.loads(label.read_text("utf-8")).get("known_miss")
        marks = [pytest.mark.xfail(strict=True, reason=miss)] if miss else []
        cases.append(pytest.param(label, id=label.stem, marks=marks))
    return cases


@pytest.mark.parametrize("label", _labelled())
def test_labelled_pages(label: Path) -> None:
    """The hand-written pages of bench/listpage_accuracy.py, item for item and date for date."""
    spec = json.loads(label.read_text("utf-8"))
    body = (label.parent / spec["file"]).read_bytes()
    today = date.fromisoformat(spec["today"])
    result = extract_items(
        body,
        url=spec["url"],
        content_type=spec["content_type"],
        today=today,
        column_name=spec.get("column"),
    )
    assert [(i.link, i.published and i.published.isoformat()) for i in result.items] == [
        (i["link"], i["published"]) for i in spec["items"]
    ]


def test_column_name_tells_a_small_list_from_a_bigger_box() -> None:
    """Two items under 预决算公开 beside eight under 要闻, class names saying nothing: only the
    column's name (which the caller knows) tells them apart."""
    label = Path(__file__).parent.parent / "data" / "listpages" / "hard_small_main_list.json"
    spec = json.loads(label.read_text("utf-8"))
    body = (label.parent / spec["file"]).read_bytes()
    blind = extract_items(body, url=spec["url"], today=TODAY)
    named = extract_items(body, url=spec["url"], today=TODAY, column_name="预决算公开")
    assert len(blind.items) == 8  # the bigger box
    assert [i.link for i in named.items] == [i["link"] for i in spec["items"]]
    titled = body.replace(b"<head>", "<head><title>预决算公开-区审计局</title>".encode())
    assert extract_items(titled, url=spec["url"], today=TODAY).items == named.items
