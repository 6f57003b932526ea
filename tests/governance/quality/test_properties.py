import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.quality import CATEGORIES, SEVERITY, build_checker, html_to_text

CHECKER = build_checker()
chinese = st.text(
    alphabet=st.sampled_from(
        list("截止目前再接再励某某xX○【请填写】省市重庆四川百家乐0123456789 \n<>\"'=/")
    ),
    max_size=200,
)


def _assert_well_formed(text: str, findings) -> None:
    for f in findings:
        assert 0 <= f.start <= f.end <= len(text)
        assert text[f.start : f.end] == f.text
        assert f.category in CATEGORIES and f.severity == SEVERITY[f.category]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_check_text_never_crashes_and_spans_stay_inside_on_any_unicode(text):
    _assert_well_formed(text, CHECKER.check_text(text))


@settings(max_examples=300, deadline=None)
@given(chinese)
def test_check_text_spans_hold_on_dense_dictionary_text(text):
    _assert_well_formed(text, CHECKER.check_text(text))


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), chinese))
def test_check_html_never_crashes_and_spans_point_into_its_text(html):
    _assert_well_formed(
        html_to_text(html), CHECKER.check_html(html, allowed_domains=frozenset({"a.cn"}))
    )


_PLAIN = "截止目前，我们的联系电话13812345678。关注“某某生活”公众号，抓好好工作"


@pytest.mark.parametrize(
    "text",
    [
        "😀截止目前，🎉我们的联系电话13812345678。𠮷关注“某某生活”公众号🇨🇳，抓好好工作",
        "\ud800截止目前，我们的联系电话13812345678。\udc00关注“某某生活”公众号，抓好好工作",
    ],
    ids=["past U+FFFF", "lone surrogates"],
)
def test_characters_of_two_code_units_or_none_leave_each_finding_on_its_words(text):
    """The automaton matches UTF-16 code units: offsets after an emoji (two units) or a lone
    surrogate (matched as U+FFFD) still point at the same words."""
    found = CHECKER.check_text(text)
    assert [(f.category, f.text, f.rule) for f in found] == [
        (f.category, f.text, f.rule) for f in CHECKER.check_text(_PLAIN)
    ]
    _assert_well_formed(text, found)
