import pytest

from governance.quality.pii import is_id18, luhn

from .conftest import only

VALID_ID = "11010519491231002X"


def test_valid_id_number_is_flagged_and_masked(checker):
    [f] = only(checker.check_text(f"身份证号{VALID_ID}，"), "pii")
    assert (f.text, f.suggestion, f.rule, f.severity) == (
        VALID_ID,
        "11*************02X",
        "pii.id18",
        "veto",
    )


def test_id_with_wrong_check_digit_is_not_an_id(checker):
    assert is_id18(VALID_ID) and not is_id18(VALID_ID[:-1] + "1")
    assert only(checker.check_text(f"编号{VALID_ID[:-1]}1"), "pii") == []


def test_id_with_impossible_birth_date_is_not_an_id():
    assert not is_id18("110105194902300021")


@pytest.mark.parametrize(
    ("text", "number", "masked"),
    [
        ("电话13812341234。", "13812341234", "138****1234"),
        ("手机 138 1234 5678", "138 1234 5678", "138****5678"),
        ("联系 +86 13912345678", "13912345678", "139****5678"),
    ],
)
def test_mobile_number_is_masked(checker, text, number, masked):
    [f] = only(checker.check_text(text), "pii")
    assert (f.text, f.suggestion) == (number, masked)


def test_bank_card_needs_luhn_and_a_context_word(checker):
    card = "6222020200112233440"
    assert not luhn(card)
    good = next(card[:-1] + str(d) for d in range(10) if luhn(card[:-1] + str(d)))
    [f] = only(checker.check_text(f"银行卡号{good}"), "pii")
    assert f.suggestion == good[:4] + "*" * (len(good) - 8) + good[-4:]
    assert only(checker.check_text(f"订单编号{good}"), "pii") == []


def test_old_15_digit_id_needs_a_context_word(checker):
    assert only(checker.check_text("身份证号码340104850315231"), "pii")
    assert only(checker.check_text("注册号340104850315231"), "pii") == []


@pytest.mark.parametrize(
    "text",
    [
        "咨询电话0551-62345678",
        "市长热线12345",
        "统一社会信用代码11340100003187652X",
        "地区生产总值12345678901亿元",
        "总投资1.3812345678亿元",
        "皖政办〔2024〕15号",
    ],
)
def test_ordinary_numbers_stay_quiet(checker, text):
    assert only(checker.check_text(text), "pii") == []
