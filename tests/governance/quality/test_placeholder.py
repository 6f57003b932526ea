import pytest

from .conftest import only


@pytest.mark.parametrize(
    ("text", "hits"),
    [
        ("xx年xx月xx日召开会议", ["xx", "xx", "xx"]),
        ("共xxx人参加", ["xxx"]),
        ("XX县人民政府", ["XX"]),
        ("各○○单位", ["○○"]),
        ("经某某同志提议", ["某某"]),
        ("会议地点：【请填写会议地点】", ["【请填写会议地点】"]),
        ("20XX年工作总结", ["XX"]),
        ("尊敬的{{name}}", ["{{name}}"]),
        ("报告人：XXX（签字）", ["XXX"]),
        ("兹证明某某某同志", ["某某某"]),
    ],
)
def test_unfilled_template_text_is_flagged(checker, text, hits):
    found = only(checker.check_text(text), "placeholder")
    assert [f.text for f in found] == hits
    assert all(f.severity == "serious" for f in found)


@pytest.mark.parametrize(
    "text",
    [
        "被告人张某某犯盗窃罪",
        "欧阳某某驾驶机动车",
        "二○○八年八月八日",
        "XXL码的服装",
        "网址为www.xxx.gov.cn",
        "某小区居民反映",
        "3×4的方格",
    ],
)
def test_anonymised_names_years_and_latin_words_stay_quiet(checker, text):
    assert only(checker.check_text(text), "placeholder") == []
