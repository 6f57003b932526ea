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
