import pytest

from .conftest import only


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("全体干部要再接再励。", "再接再励", "再接再厉"),
        ("我们将一如继往地支持。", "一如继往", "一如既往"),
        ("截止目前已完成80%。", "截止目前", "截至目前"),
        ("认真贯切落实会议精神", "贯切落实", "贯彻落实"),
        ("成立防汛领导小姐", "领导小姐", "领导小组"),
        ("县人民攻府发布通知", "攻府", "政府"),
        ("上门按装烟感报警器", "按装", "安装"),
        ("群众迫不急待想了解", "迫不急待", "迫不及待"),
    ],
)
def test_dictionary_typo_is_flagged_with_its_correction(checker, text, wrong, right):
    [f] = only(checker.check_text(text), "typo")
    assert (f.text, f.suggestion, f.severity) == (wrong, right, "general")
    assert text[f.start : f.end] == wrong


@pytest.mark.parametrize(
    ("text", "variant", "phrase"),
    [
        ("维护国民群众利益", "国民群众", "人民群众"),
        ("提升公共效劳水平", "公共效劳", "公共服务"),
        ("全县上下紧紧环绕年度目标任务", "紧紧环绕", "紧紧围绕"),
        ("我县营商情况不断改善", "营商情况", "营商环境"),
    ],
)
def test_synonym_substituted_collocation_is_a_general_wording_error(checker, text, variant, phrase):
    [f] = only(checker.check_text(text), "typo")
    assert (f.text, f.suggestion, f.rule, f.severity) == (variant, phrase, "typo.phrase", "general")


@pytest.mark.parametrize(
    ("text", "variant", "phrase"),
    [
        ("坚持全面深入改革", "全面深入改革", "全面深化改革"),
        ("推动经济高品质发展", "经济高品质发展", "经济高质量发展"),
        ("着力防备化解重大风险", "防备化解重大风险", "防范化解重大风险"),
    ],
)
def test_spun_standard_formulation_is_a_veto_wording_error(checker, text, variant, phrase):
    [f] = only(checker.check_text(text), "wording")
    assert (f.text, f.suggestion, f.rule, f.severity) == (
        variant,
        phrase,
        "wording.formulation",
        "veto",
    )
    assert only(checker.check_text(text), "typo") == []


@pytest.mark.parametrize(
    "text",
    [
        "加强平安建设，维护社会稳定。",
        "他按装修合同支付了款项。",
        "新条例既使群众办事更方便，又使监管更有效。",
        "通报消息后，群众反响热烈。",
        "全面深化改革取得新成效，人民群众获得感增强。",
        "人民大众是历史的创造者。",
        "堪察加半岛位于俄罗斯远东。",
    ],
)
def test_correct_text_and_cross_word_combinations_stay_quiet(checker, text):
    assert only(checker.check_text(text), "typo") == []


def test_longest_typo_wins_over_contained_one(checker):
    [f] = only(checker.check_text("截止记者发稿时"), "typo")
    assert f.text == "截止记者发稿"
