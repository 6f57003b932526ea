import pytest

from governance.quality import Customization, build_checker

from .conftest import only


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("庆祝中华人民共合国成立", "中华人民共合国"),
        ("我是四川省重庆市人", "四川省重庆市"),
        ("来自浙江省泰州市的代表", "浙江省泰州市"),
        ("广西壮族自治区昆明市", "广西壮族自治区昆明市"),
        ("积极参与一带一路战略", "一带一路战略"),
        ("中国共产党第二十届全国代表大会", "第二十届全国代表大会"),
        ("学习二十次三中全会精神", "二十次三中全会"),
        ("所谓台湾总统", "台湾总统"),
    ],
)
def test_serious_wording_error_is_a_veto(checker, text, wrong):
    [f] = only(checker.check_text(text), "wording")
    assert (f.text, f.severity) == (wrong, "veto")


def test_wrong_parent_province_names_the_real_one(checker):
    [f] = only(checker.check_text("江苏省台州市"), "wording")
    assert f.suggestion == "台州市属于浙江省"


@pytest.mark.parametrize(
    "text",
    [
        "浙江省台州市和江苏省泰州市",
        "吉林省吉林市",
        "湖北省仙桃市",
        "四川省、重庆市两地",
        "中国共产党第二十次全国代表大会",
        "党的二十届三中全会",
        "台湾国民党籍人士",
        "“一带一路”倡议",
    ],
)
def test_correct_names_and_hierarchies_stay_quiet(checker, text):
    assert only(checker.check_text(text), "wording") == []


def test_removed_official_is_flagged_only_when_shown_as_official():
    checker = build_checker(Customization(removed_officials=("王大明",)))
    shown = checker.check_text("市委书记王大明出席会议并讲话。")
    reported = checker.check_text("王大明严重违纪违法被开除党籍。")
    mentioned = checker.check_text("王大明的案件警示我们。")
    assert [f.text for f in only(shown, "wording")] == ["王大明"]
    assert only(reported, "wording") == []
    assert only(mentioned, "wording") == []
