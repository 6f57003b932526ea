"""A feed's post link cannot inject attributes or schemes into the bot's HTML messages."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from handlers.render import post_line, safe_link


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[list[tuple[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(attrs)


def _anchors(text: str) -> list[list[tuple[str, str | None]]]:
    parser = _Anchors()
    parser.feed(text)
    return parser.anchors


def test_a_quote_in_a_link_stays_inside_the_href() -> None:
    link = 'https://example.gov.cn/a"title="phish"onmouseover="x'
    line = post_line("通知", link, "2026-03-01")
    assert _anchors(line) == [[("href", link)]], "one attribute, holding the whole link"
    assert '"title="' not in line


def test_a_link_with_spaces_is_not_linked() -> None:
    line = post_line("通知", 'https://example.gov.cn/a" title="phish', "2026-03-01")
    assert _anchors(line) == [] and 'title="' not in line


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<b>x</b>",
        "tg://resolve?domain=x",
        "ftp://example.gov.cn/a",
        "//example.gov.cn/a",
        "/relative/path",
        "http://",
        "https://exa mple.gov.cn/",
        "https://example.gov.cn/\nx",
    ],
)
def test_only_http_and_https_links_are_linked(link: str) -> None:
    assert safe_link(link) is None
    line = post_line("通知", link, "2026-03-01")
    assert _anchors(line) == [] and "href" not in line


def test_an_ordinary_link_with_a_query_is_linked_escaped() -> None:
    link = "HTTPS://example.gov.cn/a?x=1&y=<2>"
    line = post_line("<通知>", link, "2026-03-01")
    assert 'href="HTTPS://example.gov.cn/a?x=1&amp;y=&lt;2&gt;"' in line
    assert "&lt;通知&gt;" in line
