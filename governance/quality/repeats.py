"""Duplicated characters and phrases (抓好好, 和和, 发布信息发布) and malformed 发文字号.

Reduplication is ordinary Chinese (常常, 层层, 研究研究, 家家户户), so a doubled character is
only reported when jieba's word statistics say the text does not read that way: the first
copy ends a frequent word (抓好|好), the doubled pair is not a word used as such, or the
second copy does not start a word of its own (好|好学习 is fine).

A document number (发文字号) reads 机关代字〔年份〕序号号, e.g. 大政办发〔2020〕43号: the year in
hexagonal brackets 〔〕, no 第 before the number. Square or round brackets and 第 are
reported with the corrected form as the suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .model import Finding, make_finding
from .spun import word_frequencies

_CJK = re.compile(r"[\u4e00-\u9fff]")
_DOUBLE = re.compile(r"([\u4e00-\u9fff])\1")
_PHRASE_AGAIN = re.compile(r"([\u4e00-\u9fff]{2})((?:[\u4e00-\u9fff]{2})?)\1")
_WORD_FREQ = 100  # a word at least this frequent in jieba's dictionary is ordinary text
_FUNCTION_CHARS = frozenset("和的与及并对把被将从向在为由于以")
_REDUPLICATED_VERBS = frozenset(
    [
        "研究研究",
        "商量商量",
        "讨论讨论",
        "学习学习",
        "了解了解",
        "休息休息",
        "锻炼锻炼",
        "考虑考虑",
        "打听打听",
        "收拾收拾",
        "介绍介绍",
        "活动活动",
        "准备准备",
        "检查检查",
        "比较比较",
        "认识认识",
    ]
)
_YEAR_NUMBER = re.compile(
    r"(?P<open>[\[［(（【〔<〈])\s*(?P<year>(?:19|20)[0-9]{2})\s*(?P<close>[\]］)）】〕>〉])\s*"
    r"(?P<di>第?)\s*(?P<no>[0-9]{1,4})\s*号"
)
_LEAD = re.compile(
    r"(?:根据|按照|依据|依照|参照|现将|转发|印发|执行|落实|贯彻|关于|对|将|把|经|据|按|依|以|和|与|及|见)+"
    r"(?=[\u4e00-\u9fff])"
)
_ORG = re.compile(
    r"[\u4e00-\u9fff]{1,10}?(?:发|办|函|字|令|通|复|规|呈|报|任|电|密|政|委|党|组|纪)\s*$"
)


def _word(s: str) -> bool:
    return word_frequencies().get(s, 0) >= _WORD_FREQ


def _starts_word(text: str, i: int) -> bool:
    freq = word_frequencies()
    return _word(text[i : i + 2]) or any(
        freq.get(text[i : i + n], 0) > 0 for n in (3, 4) if i + n <= len(text)
    )


def find_repeats(text: str) -> Iterator[Finding]:
    for m in _DOUBLE.finditer(text):
        s = m.start()
        pair = m.group()
        if s > 0 and text[s - 1] == text[s - 2 : s - 1]:
            continue  # 明明白白: AABB reduplication
        if text[s + 2 : s + 3] and text[s + 2 : s + 3] == text[s + 3 : s + 4]:
            continue  # 的的确确: AABB reduplication
        if pair[0] in _FUNCTION_CHARS and not _word(pair) and not _starts_word(text, s + 1):
            yield make_finding(text, "typo", s, s + 2, f"删除重复的「{pair[0]}」", "typo.repeat")
            continue
        ends_word = s > 0 and _word(text[s - 1 : s + 1])
        if not ends_word or _starts_word(text, s + 1) or _word(text[s - 1 : s + 2]):
            continue
        if _word(pair) and not _word(text[s - 1 : s + 1]):
            continue
        yield make_finding(text, "typo", s, s + 2, f"删除重复的「{pair[0]}」", "typo.repeat")
    for m in _PHRASE_AGAIN.finditer(text):
        unit, middle = m.group(1), m.group(2) or ""
        whole = m.group()
        if not _word(unit) or whole in _REDUPLICATED_VERBS or len(set(unit)) == 1:
            continue
        if unit[0] in "一二三四五六七八九十0123456789每":
            continue  # 一天一天: counting, not a slip
        if middle and (len(unit) != 2 or len(middle) != 2 or not _word(middle)):
            continue  # 发布信息发布: a word, another word, the first again
        if not middle and _word(whole):
            continue
        yield make_finding(text, "typo", m.start(), m.end(), f"删除重复的「{unit}」", "typo.repeat")


def find_malformed_document_numbers(text: str) -> Iterator[Finding]:
    """Anchored on the bracketed year, the rare part, then the issuer's code before it."""
    for m in _YEAR_NUMBER.finditer(text) if "号" in text else ():
        if m["open"] == "〔" and m["close"] == "〕" and not m["di"]:
            continue
        org = _ORG.search(text, max(0, m.start() - 12), m.start())
        if org is None:
            continue
        lead = _LEAD.match(org.group())
        start = org.start() + (lead.end() if lead else 0)
        code = text[start : m.start()].rstrip()
        right = f"{code}〔{m['year']}〕{m['no']}号"
        yield make_finding(text, "typo", start, m.end(), right, "typo.docno")
