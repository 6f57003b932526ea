"""Machine-spun wording (伪原创 / 洗稿): near misses of standard formulations."""

import sys
from pathlib import Path

import pytest

from governance.quality.spun import FORMULATION, spun_lexicon

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))

from eval_real import LONG_CLEAN  # noqa: E402


def spun(findings):
    return [f for f in findings if f.rule in ("typo.phrase", "wording.formulation")]


@pytest.mark.parametrize(
    ("text", "variant", "standard"),
    [
        ("全县上下紧紧环绕年度目标任务，凝心聚力抓落实。", "紧紧环绕", "紧紧围绕"),
        ("要坚持底线思维，防备化解重大风险。", "防备化解重大风险", "防范化解重大风险"),
        ("今年以来，我区营商情况不断改善。", "营商情况", "营商环境"),
        ("深入推进乡村复兴，建设宜居宜业和美乡村。", "乡村复兴", "乡村振兴"),
        ("扎实开展党史进修教育，推动学史明理。", "党史进修教育", "党史学习教育"),
    ],
)
def test_a_word_swapped_for_a_synonym_names_the_standard_form(checker, text, variant, standard):
    [f] = spun(checker.check_text(text))
    assert (f.text, f.suggestion) == (variant, standard)


def test_a_spun_political_formulation_is_a_veto_and_a_collocation_is_general(checker):
    [veto] = spun(checker.check_text("坚持以国民为中心的发展思想。"))
    assert (veto.category, veto.severity, veto.suggestion) == ("wording", "veto", "以人民为中心")
    [general] = spun(checker.check_text("全县上下紧紧环绕中心工作。"))
    assert (general.category, general.severity) == ("typo", "general")


def test_high_quality_development_spun_into_kaizhan_is_flagged_only_at_a_phrase_end(checker):
    [f] = spun(checker.check_text("坚定不移推动高质量开展，奋力开创新局面。"))
    assert f.suggestion == "高质量发展"
    assert spun(checker.check_text("高质量开展主题教育，确保取得实效。")) == []


@pytest.mark.parametrize(
    "text",
    [
        "紧紧围绕高质量发展，持续优化营商环境，防范化解重大风险。",
        "乡村兴旺发达，群众安居乐业。",
        "人民大众是历史的创造者。",
        "改善营商环境，推动经济高质量发展。",
        "扎实推动乡村振兴，促进共同富裕。",
    ],
)
def test_standard_wording_and_ordinary_language_stay_quiet(checker, text):
    assert spun(checker.check_text(text)) == []


@pytest.mark.parametrize("doc", LONG_CLEAN, ids=lambda d: d[:12])
def test_long_clean_official_documents_get_no_finding(checker, doc):
    assert checker.check_text(doc) == []


def test_the_variant_table_is_built_from_package_statistics_once():
    lexicon = spun_lexicon()
    assert lexicon is spun_lexicon()  # cached: built once per process, not per text
    forms = dict(lexicon.standards)
    assert forms["高质量发展"] == FORMULATION
    by_variant = {m.variant: m for m in lexicon.near_misses}
    assert by_variant["紧紧环绕"].standard == "紧紧围绕"  # 同义词词林: 围绕 = 环绕
    assert "人民大众" not in by_variant  # a word in jieba's dictionary is ordinary language
