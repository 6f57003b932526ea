"""Personal data in text: ID numbers, mobile numbers, bank card numbers.

A number is only reported when it validates (ID check digit ISO 7064 MOD 11-2 with a
real region and birth date, Luhn for cards), because government text is full of long
numbers that are not personal data: document numbers, credit codes, statistics.
Old 15-digit IDs and bank cards carry no strong check, so they also need a context
word (身份证 / 卡号, 银行, 账号 …) shortly before them.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterator

from .model import Finding, make_finding

# Runs of ASCII digits that may be split by single spaces or hyphens (138 1234 5678).
_RUN = re.compile(
    r"(?<![0-9A-Za-z.])[0-9](?:[0-9]|[ \-](?=[0-9])){10,24}[Xx]?(?![0-9A-Za-z]|\.[0-9])"
)
_TOKEN = re.compile(r"[0-9]+[Xx]?")
_PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_CONTEXT = re.compile(r"身份证|身份号码|证件号|公民身份|身份证号")
_CARD_CONTEXT = re.compile(r"卡号|银行|账号|帐号|账户|帐户|储蓄卡|信用卡|借记卡|开户行|户名|收款")
_CONTEXT_WINDOW = 20


def _valid_date(yyyymmdd: str) -> bool:
    try:
        day = _dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1900 <= day.year <= 2099


def is_id18(s: str) -> bool:
    """18-character resident ID: region, real birth date, MOD 11-2 check character."""
    if len(s) != 18 or not s[:17].isdigit() or s[:2] not in _PROVINCE_CODES:
        return False
    if not _valid_date(s[6:14]):
        return False
    total = sum(int(c) * w for c, w in zip(s[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == s[17].upper()


def is_id15(s: str) -> bool:
    """Pre-1999 15-digit ID: region and a real 19yy birth date (no check digit exists)."""
    return len(s) == 15 and s.isdigit() and s[:2] in _PROVINCE_CODES and _valid_date("19" + s[6:12])


def luhn(s: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(s)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_mobile(s: str) -> bool:
    return len(s) == 11 and s[0] == "1" and s[1] in "3456789"


#: How much of each kind of number stays readable: ID numbers the first 2 and last 3 digits,
#: mobiles 138****1234, bank cards the first and last 4.
_KEPT = {"pii.id18": (2, 3), "pii.id15": (2, 3), "pii.mobile": (3, 4), "pii.bankcard": (4, 4)}


def mask_number(value: str, rule: str) -> str:
    """The only form in which a piece of personal data is stored or shown: the masked number.

    ``rule`` is the finding's rule (``pii.id18`` …); separators in ``value`` are dropped.
    Unknown rules mask everything.
    """
    digits = value.replace(" ", "").replace("-", "")
    head, tail = _KEPT.get(rule, (0, 0))
    if len(digits) <= head + tail:
        return "*" * len(digits)
    return digits[:head] + "*" * (len(digits) - head - tail) + digits[len(digits) - tail :]


def _classify(text: str, digits: str, start: int) -> tuple[str, str] | None:
    rule = _rule(text, digits, start)
    return (rule, mask_number(digits, rule)) if rule else None


_LENGTHS = frozenset((11, 15, 16, 17, 18, 19))  # mobile, old ID, bank card, ID
_SHORTEST = min(_LENGTHS)


def _rule(text: str, digits: str, start: int) -> str | None:
    if len(digits) not in _LENGTHS:  # most digit runs: area codes, phone numbers, statistics
        return None
    if is_id18(digits):
        return "pii.id18"
    if not digits.isdigit():
        return None
    before = text[max(0, start - _CONTEXT_WINDOW) : start]
    if is_id15(digits) and _ID_CONTEXT.search(before):
        return "pii.id15"
    if is_mobile(digits):
        return "pii.mobile"
    if (
        16 <= len(digits) <= 19
        and digits[0] in "3456"
        and luhn(digits)
        and _CARD_CONTEXT.search(before)
    ):
        return "pii.bankcard"
    return None


_ELEVEN = b"\x01" * 11
_DIGIT_SPACE_HYPHEN = bytes(1 if c in b"0123456789 -" else 0 for c in range(256))


def _runs(text: str) -> Iterator[re.Match[str]]:
    """``_RUN.finditer(text)``, run only inside stretches of 11 or more digits, spaces and
    hyphens: a match is one of them (plus an X), so the regex runs in each with its end 3
    characters past the stretch, far enough for the lookahead after an X. The stretches are
    found in one byte per character (Latin-1 with every other character as ?), translated to
    0/1 bytes: C loops, no regex tried at every position."""
    flags = text.encode("latin-1", "replace").translate(_DIGIT_SPACE_HYPHEN)
    lo = flags.find(_ELEVEN)
    while lo >= 0:
        hi = flags.find(b"\x00", lo)
        hi = len(flags) if hi < 0 else hi
        yield from _RUN.finditer(text, lo, hi + 3)
        lo = flags.find(_ELEVEN, hi)


def find_pii(text: str) -> Iterator[Finding]:
    """Yield PII findings; a separated run is tried whole first, then token by token."""
    for m in _runs(text):
        run = m.group()
        whole = run.replace(" ", "").replace("-", "")
        hit = _classify(text, whole, m.start())
        if hit:
            yield make_finding(text, "pii", m.start(), m.end(), hit[1], hit[0])
            continue
        if len(whole) == len(run):
            continue  # one token, the run itself: just classified
        for t in _TOKEN.finditer(run):
            if len(t.group()) < _SHORTEST:
                continue  # no kind of number is this short
            s = m.start() + t.start()
            hit = _classify(text, t.group(), s)
            if hit:
                yield make_finding(text, "pii", s, m.start() + t.end(), hit[1], hit[0])


def mask_pii(text: str) -> str:
    """``text`` with every piece of personal data :func:`find_pii` recognises replaced by its
    mask (138****1234, 11*************123): the one masking rule for everything shown, so
    anything that came from a post or a draft passes through this before a person sees it."""
    if not text:
        return text
    out: list[str] = []
    at = 0
    for f in find_pii(text):
        if f.start < at:
            continue
        out += [text[at : f.start], f.suggestion or "*" * (f.end - f.start)]
        at = f.end
    return "".join([*out, text[at:]]) if out else text
