"""The ledger's 网站 sheet: rows checked one by one, columns all-or-nothing, classes by name."""

from __future__ import annotations

from governance.websiteledger import HEADERS, parse_website_rows
from governance.websites import ColumnClass

HEAD = [label for _key, label in HEADERS]
SITE = ["某区政府办", "某区政府门户网站", "http://www.example.gov.cn/", "王网管"]


def test_rows_file_websites_and_columns() -> None:
    rows, problems = parse_website_rows(
        [
            HEAD,
            [*SITE],
            [*SITE, "新闻动态", "http://www.example.gov.cn/xwdt/", "动态要闻", "是", ""],
            [*SITE, "政策文件", "http://www.example.gov.cn/zcwj/", "政策", "否", "ul.list>li"],
        ]
    )
    assert problems == []
    assert [r.kind for r in rows] == [None, ColumnClass.NEWS, ColumnClass.POLICY]
    assert rows[2].first_level is False and rows[2].selector == "ul.list>li"
    assert rows[1].row == 3


def test_bad_rows_are_named_and_the_others_kept() -> None:
    rows, problems = parse_website_rows(
        [
            ["说明：每个栏目一行"],
            HEAD,
            ["某区政府办", "", "ftp://x", "王网管"],
            [*SITE, "新闻动态", "", "动态要闻"],
            [*SITE, "博客", "http://www.example.gov.cn/blog/", "博客"],
            [*SITE, "新闻", "http://www.example.gov.cn/n/", "动态要闻", "也许"],
            [*SITE],
        ]
    )
    assert len(rows) == 1
    found = {(p.row, p.column) for p in problems}
    assert (3, "网站名称") in found and (4, "栏目地址") in found
    assert (5, "栏目类别") in found and (6, "一级栏目") in found


def test_a_sheet_without_the_header_is_one_problem() -> None:
    rows, problems = parse_website_rows([["名称", "地址"], ["a", "b"]])
    assert rows == [] and len(problems) == 1 and "表头" in str(problems[0].error)
