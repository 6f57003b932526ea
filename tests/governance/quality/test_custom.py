import threading

from governance.quality import CheckerHolder, Customization, WordEntry, build_checker

from .conftest import only


def test_admin_word_is_flagged_with_its_category_and_suggestion():
    checker = build_checker(Customization(words=(WordEntry("typo", "政务微薄", "政务微博"),)))
    [f] = only(checker.check_text("本单位政务微薄账号"), "typo")
    assert (f.text, f.suggestion, f.rule) == ("政务微薄", "政务微博", "typo.custom")


def test_admin_allow_entry_silences_a_shipped_word():
    assert only(build_checker().check_text("请按装好的设备"), "typo")
    checker = build_checker(Customization(allow=("按装好",)))
    assert only(checker.check_text("请按装好的设备"), "typo") == []


def test_disabled_shipped_word_is_no_longer_flagged():
    checker = build_checker(Customization(disabled=("再接再励",)))
    assert only(checker.check_text("再接再励"), "typo") == []


def test_unknown_category_is_refused():
    try:
        build_checker(Customization(words=(WordEntry("rude", "x"),)))
    except ValueError as e:
        assert "rude" in str(e)
    else:
        raise AssertionError("expected ValueError")


def test_holder_swaps_the_checker_while_readers_keep_working():
    holder = CheckerHolder()
    errors: list[Exception] = []

    def read() -> None:
        try:
            for _ in range(200):
                holder.current.check_text("截止目前，某某同志")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    new = holder.rebuild(Customization(words=(WordEntry("ad", "独家秘笈"),)))
    for t in threads:
        t.join()
    assert not errors
    assert holder.current is new
    assert only(holder.current.check_text("独家秘笈"), "ad")
