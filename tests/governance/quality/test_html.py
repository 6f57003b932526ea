import pytest

from governance.quality import extract_links, html_to_text

from .conftest import only

ALLOWED = frozenset({"example.gov.cn"})


@pytest.mark.parametrize(
    ("style", "reason"),
    [
        ('style="display:none"', "display:none"),
        ('style="visibility:hidden"', "visibility:hidden"),
        ('style="position:absolute;left:-9999px"', "off-screen"),
        ('style="font-size:0"', "font-size:0"),
        ('style="height:0;overflow:hidden"', "zero-size"),
        ('style="color:#fff"', "same-colour"),
        ('style="background:#000;color:black"', "same-colour"),
        ("hidden", "hidden-attr"),
    ],
)
def test_hidden_link_is_flagged_at_its_text(checker, style, reason):
    html = f'<p>正文。</p><div {style}><a href="http://spam.cc">热门资讯</a></div>'
    [f] = only(checker.check_html(html), "hidden_link")
    text = html_to_text(html)
    assert text[f.start : f.end] == f.text == "热门资讯"
    assert f.rule == f"hidden_link.{reason}"


def test_class_rules_from_style_blocks_hide_links(checker):
    html = '<style>.x{display:none}</style><p class="x"><a href="http://a.cc">链接</a></p>'
    assert only(checker.check_html(html), "hidden_link")


def test_offsite_link_is_flagged_only_against_an_allow_list(checker):
    html = '<p>详见<a href="http://bbs.other.com/1">帖子</a>与<a href="http://www.example.gov.cn/a">通知</a></p>'
    assert only(checker.check_html(html), "hidden_link") == []
    [f] = only(checker.check_html(html, allowed_domains=ALLOWED), "hidden_link")
    assert (f.text, f.rule) == ("帖子", "hidden_link.offsite")


def test_government_and_central_media_domains_are_always_allowed(checker):
    html = '<a href="https://www.gov.cn/zhengce/">政策</a><a href="http://www.news.cn/x">新华网</a>'
    assert checker.check_html(html, allowed_domains=ALLOWED) == []


def test_link_to_gambling_site_is_gambling_even_with_harmless_text(checker):
    html = '<p><a href="http://www.amxpj888.com/">点击进入</a></p>'
    [f] = only(checker.check_html(html), "gambling")
    assert f.text == "点击进入"


def test_plain_text_keeps_blocks_apart_and_drops_scripts():
    html = "<table><tr><td>四川省</td><td>重庆市</td></tr></table><script>var a=1</script>&amp;"
    assert html_to_text(html) == "四川省\n重庆市\n&"


def test_findings_of_check_html_point_into_html_to_text(checker):
    html = "<div><p>共xxx人参加</p><p>截止目前</p></div>"
    text = html_to_text(html)
    found = checker.check_html(html)
    assert found and all(text[f.start : f.end] == f.text for f in found)


def test_extract_links_for_the_dead_link_job():
    html = '<p>见<a href="http://a.gov.cn/x"> 通知 </a></p>'
    [link] = extract_links(html, html=True)
    assert (link.url, link.text, link.hidden) == ("http://a.gov.cn/x", "通知", None)
    [plain] = extract_links("详见 https://www.example.gov.cn/a.html。")
    assert plain.url == "https://www.example.gov.cn/a.html"


@pytest.mark.parametrize(
    "html",
    [
        '<p>正文。</p><div style="display:none"><a href="http://spam.cc">热门资讯</a></div>',
        '<p>详见<a href="http://bbs.other.com/1">帖子</a>与<a href="http://www.example.gov.cn/a">通知</a></p>',
        "<div><p>共xxx人参加</p><p>截止目前</p></div>",
        '<p><a href="http://www.amxpj888.com/">点击进入</a></p><script>var a=1</script>',
    ],
)
def test_a_stored_post_is_parsed_once_and_checked_as_the_three_separate_calls_would(
    checker, html: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.quality import extract as parse
    from jobs import quality_scan

    expected_body = html_to_text(html)
    expected = checker.check_html(html, allowed_domains=ALLOWED)
    expected_links = extract_links(html, html=True)
    parses: list[str] = []

    def counted(document: str) -> tuple[str, list[object]]:
        parses.append(document)
        return parse(document)  # type: ignore[return-value]

    monkeypatch.setattr(quality_scan, "extract", counted)
    checked = quality_scan.check_document(
        checker, title="", html=html, text="", allowed_domains=ALLOWED
    )
    assert parses == [html]
    assert checked.document == expected_body
    assert checked.findings == [f for f in expected if expected_body[f.start : f.end] == f.text]
    assert checked.links == [(k.url, k.text, k.start, k.end) for k in expected_links]
