"""What a word-list change means for stored posts (governance.sweep)."""

from __future__ import annotations

from governance.quality import Customization, WordEntry
from governance.sweep import (
    ItemKind,
    LiteralScan,
    RuleItem,
    covered,
    delta,
    digest,
    dump_items,
    items_of,
    load_items,
    word_dependent,
)

BASE = Customization(words=(WordEntry("typo", "滨江夜游", "滨江夜景游"),), allow=("平安建设",))


def test_digest_ignores_order_and_round_trips() -> None:
    a = Customization(words=(WordEntry("ad", "甲乙"), WordEntry("porn", "丙丁")))
    b = Customization(words=(WordEntry("porn", "丙丁"), WordEntry("ad", "甲乙")))
    assert digest(items_of(a)) == digest(items_of(b))
    assert load_items(dump_items(items_of(BASE))) == items_of(BASE)


def test_added_word_is_scanned_for_and_a_removed_one_only_revisits_its_findings() -> None:
    added = Customization(words=(*BASE.words, WordEntry("gambling", "夜场AB")), allow=BASE.allow)
    change = delta(items_of(added), union=items_of(BASE), inter=items_of(BASE))
    assert change.literals == {"夜场ab"} and not change.findings_only

    removed = Customization(allow=BASE.allow)
    change = delta(items_of(removed), union=items_of(BASE), inter=items_of(BASE))
    assert change.findings_only and change.cited == {"滨江夜游"}


def test_allow_list_and_disabled_words_work_in_both_directions() -> None:
    more_allow = Customization(words=BASE.words, allow=(*BASE.allow, "夜游项目"))
    change = delta(items_of(more_allow), union=items_of(BASE), inter=items_of(BASE))
    assert change.covering == {"夜游项目"} and not change.findings_only, "needs the texts"
    disabled = Customization(words=BASE.words, allow=BASE.allow, disabled=("截止目前",))
    change = delta(items_of(disabled), union=items_of(BASE), inter=items_of(BASE))
    assert change.findings_only and change.cited == {"截止目前"}
    back = delta(items_of(BASE), union=items_of(disabled), inter=items_of(disabled))
    assert not back.findings_only and back.literals == {"截止目前"}, "re-enabled: scan for it"


def test_a_changed_suggestion_withdraws_nothing_and_domains_need_no_sweep() -> None:
    hint = Customization(words=(WordEntry("typo", "滨江夜游", "夜游滨江"),), allow=BASE.allow)
    change = delta(items_of(hint), union=items_of(BASE), inter=items_of(BASE))
    assert change.cited == frozenset() and not change.findings_only
    domain = Customization(words=BASE.words, allow=BASE.allow, allowed_domains=("a.gov.cn",))
    assert delta(items_of(domain), union=items_of(BASE), inter=items_of(BASE)).empty


def test_a_restart_mid_sweep_covers_both_states_a_post_may_be_in() -> None:
    t1 = items_of(Customization(words=(WordEntry("ad", "甲乙"),)))
    t2 = items_of(Customization(words=(WordEntry("ad", "丙丁"),)))
    base = frozenset[RuleItem]()
    # posts before the cursor reflect t1, the rest the base: union and intersection of both
    change = delta(t2, union=base | t1, inter=base & t1)
    assert {i.word for i in change.added} == {"丙丁"} and change.cited == {"甲乙"}


def test_literal_scan_and_excerpt_cover() -> None:
    scan = LiteralScan(["夜场ab"])
    assert scan.hits("今晚夜场AB开放") and not scan.hits("今晚开放") and not scan.hits("")
    assert not LiteralScan([]).hits("任何")
    chinese = LiteralScan(["夜游"])
    assert chinese.hits("推出夜游项目") and not chinese.hits("夜市")
    assert covered("……推进平安建设工作……", 4, 2, {"平安建设"})  # 安建 inside 平安建设
    assert not covered("……推进平安工作建设……", 4, 2, {"平安建设"})


def test_only_dictionary_rules_follow_the_word_lists() -> None:
    assert word_dependent("gambling.custom") and word_dependent("typo.dict")
    assert not word_dependent("pii.id_number") and not word_dependent("hidden_link.offsite")
    assert RuleItem(ItemKind.WORD, " AB ").literal == "ab"
