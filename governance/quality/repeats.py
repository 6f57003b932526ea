"""Duplicated characters and words (抓好好, 和和, 发布发布) and malformed 发文字号.

Reduplication is ordinary Chinese (常常, 层层, 研究研究, 家家户户), so a doubled character is
only reported when jieba's word statistics say the text does not read that way: the first
copy ends a frequent word (抓好|好) and the second copy starts no word of its own
(好|好学习, 学习|习近平 are fine); numerals (十五五) and compound prefixes (安全|全链条) never
count. A word said twice in a row (发布发布) is reported unless the second copy reads on
into a longer word. Separated repeats (发布信息发布) are left alone: without phrase
statistics they cannot be told from parallel wording (目标导向问题导向), which real
reports are full of.

A document number (发文字号) reads 机关代字〔年份〕序号号, e.g. 大政办发〔2020〕43号: the year in
hexagonal brackets 〔〕, no 第 before the number. Square or round brackets and 第 are
reported with the corrected form as the suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import numpy as np
from numpy.typing import NDArray

from .anchors import Anchors, anchored, near
from .model import Finding, make_finding
from .spun import word_frequencies

_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_CHAR = _CJK.match
_DOUBLE = re.compile(r"([\u4e00-\u9fff])\1")
_PHRASE_AGAIN = re.compile(r"([\u4e00-\u9fff]{2})\1")
_WORD_FREQ = 100  # a word at least this frequent in jieba's dictionary is ordinary text
_FUNCTION_CHARS = frozenset("和的与及并对把被将从向在为由于以")
# Distributive reduplication: "every" (人人, 事事, 处处), never a slip.
_DISTRIBUTIVE = frozenset(
    [
        "人人",
        "事事",
        "处处",
        "个个",
        "家家",
        "户户",
        "天天",
        "年年",
        "月月",
        "日日",
        "时时",
        "刻刻",
        "样样",
        "件件",
        "条条",
        "句句",
        "步步",
        "层层",
        "村村",
        "镇镇",
        "代代",
        "世世",
        "声声",
        "心心",
        "念念",
        "节节",
        "面面",
        "点点",
        "滴滴",
        "片片",
        "种种",
        "项项",
        "级级",
        "环环",
        "岁岁",
        "次次",
        "队队",
        "户户",
        "家家",
        "山山",
        "水水",
        "方方",
        "场场",
        "常常",
        "往往",
        "渐渐",
        "纷纷",
        "默默",
        "悄悄",
        "刚刚",
        "仅仅",
        "稍稍",
        "久久",
        "紧紧",
        "牢牢",
        "深深",
        "稳稳",
        "实实",
        "真真",
        "多多",
        "频频",
        "连连",
        "累累",
        "殷殷",
        "谆谆",
        "熠熠",
        "勃勃",
        "欣欣",
        "巍巍",
        "浩浩",
        "源源",
        "滚滚",
        "徐徐",
        "款款",
        "翩翩",
        "蒸蒸",
        "冉冉",
        "亭亭",
        "脉脉",
        "历历",
        "栩栩",
    ]
)
_NUMERALS = frozenset("〇一二三四五六七八九十百千万亿两0123456789")
# Characters that begin a compound after a word ending in the same character: 安全|全链条.
_PREFIXES = frozenset(
    "全总新大小高多各本该副正非超准老省市县区镇村国党中上下前后内外分子单双半次首每"
)
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
    """Whether a dictionary word (any frequency) starts at `i`: 路|路网, 车|车路云."""
    freq, end = word_frequencies(), len(text)
    return (
        (i + 2 <= end and freq.get(text[i : i + 2], 0) > 0)
        or (i + 3 <= end and freq.get(text[i : i + 3], 0) > 0)
        or (i + 4 <= end and freq.get(text[i : i + 4], 0) > 0)
    )


#: The characters of a text as integers (code points, or UTF-16 code units).
Codes = NDArray[np.uint32] | NDArray[np.uint16]


def code_points(text: str) -> NDArray[np.uint32]:
    """The text as an array of code points, for the rules that compare characters at fixed
    distances (a doubled character, a doubled word) in one vectorised step instead of a regex
    tried at every position."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def _greedy(starts: Iterable[int], width: int) -> list[int]:
    """The starts a left-to-right regex scan keeps: no match begins inside the previous one."""
    out: list[int] = []
    covered = 0
    for s in starts:
        if s >= covered:
            out.append(s)
            covered = s + width
    return out


def _doubles(text: str, codes: Codes | None) -> tuple[list[int], list[int]]:
    """The starts of ``_DOUBLE.finditer`` and ``_PHRASE_AGAIN.finditer`` (AA and ABAB of CJK
    ideographs), from the code points: a character equal to the next one, a pair equal to
    the next pair (three array comparisons), then the few of those that are ideographs."""
    if codes is None:
        return (
            [m.start() for m in _DOUBLE.finditer(text)],
            [m.start() for m in _PHRASE_AGAIN.finditer(text)],
        )
    same = (codes[1:] == codes[:-1]).nonzero()[0].tolist()
    doubles = _greedy([i for i in same if "\u4e00" <= text[i] <= "\u9fff"], 2)
    again = codes[2:] == codes[:-2]
    pairs = (again[:-1] & again[1:]).nonzero()[0].tolist()
    if not pairs:
        return doubles, []
    pairs = [i for i in pairs if _CJK_CHAR(text, i) and _CJK_CHAR(text, i + 1)]
    return doubles, _greedy(pairs, 4)


def find_repeats(text: str, codes: Codes | None = None) -> Iterator[Finding]:
    """``codes``: :func:`code_points` of ``text`` when the caller has it already (or any
    array equal to it at the CJK ideographs, see the checker)."""
    doubles, again = _doubles(text, codes)
    for s in doubles:
        if _doubled_by_mistake(text, s):
            ch = text[s]
            yield make_finding(text, "typo", s, s + 2, f"删除重复的「{ch}」", "typo.repeat")
    for s in again:
        e = s + 4
        unit = text[s : s + 2]
        whole = text[s:e]
        if not _word(unit) or _word(whole) or whole in _REDUPLICATED_VERBS:
            continue
        freq = word_frequencies()
        if unit[0] in _NUMERALS or len(set(unit)) == 1:
            continue  # 一天一天, 天天
        if any(freq.get(text[s + 2 : s + 2 + n], 0) > 0 for n in (3, 4)):
            continue  # 工作|工作会议: the second copy reads on into a longer word
        if s >= 2 and text[s - 2 : s] == unit:
            continue  # three in a row is rhetoric or a list, not a slip
        yield make_finding(text, "typo", s, e, f"删除重复的「{unit}」", "typo.repeat")


def _doubled_by_mistake(text: str, s: int) -> bool:
    """A doubled character (text[s] == text[s + 1]) that no reading of the text explains."""
    ch, after = text[s], text[s + 2 : s + 3]
    if ch in _NUMERALS or ch in _PREFIXES:
        return False  # 十五五, 全国国资, 安全全链条
    if (s > 0 and text[s - 1] == ch) or (after and after == text[s + 3 : s + 4]):
        return False  # three in a row, or AABB reduplication (明明白白, 的的确确)
    if s >= 2 and text[s - 2] == text[s - 1]:
        return False  # the second half of AABB (扎扎实实, 实实在在)
    pair = text[s : s + 2]
    if pair in _DISTRIBUTIVE or (s > 0 and text[s - 1] == "一"):
        return False  # 人人, 事事; 一件件, 一张张
    freq = word_frequencies()
    if freq.get(text[s : s + 3], 0) > 0 or freq.get(text[s : s + 4], 0) > 0:
        return False  # 源源不断, 天天向上
    if _starts_word(text, s + 1):
        return False  # 学习|习近平, 对|对联
    if ch in _FUNCTION_CHARS:
        return not _word(pair)  # 和和, 的的
    # 抓好|好: a word, then the reduplicated word of its last character (太湖|湖体 is a
    # compound, 湖湖 is no word)
    return (
        s > 0
        and _word(text[s - 1 : s + 1])
        and not _word(text[s - 1 : s + 2])
        and word_frequencies().get(pair, 0) > 0
    )


_OPENS = "[［(（【〔<〈"
_SPACES = "".join(c for c in map(chr, range(0x3001)) if c.isspace())  # re's \s, all below U+3001
#: Where a document number can start (lowered), for the checker's automaton: an open bracket
#: before 19/20 or before white space (every character re's \s matches).
ANCHOR_WORDS: tuple[str, ...] = tuple(o + t for o in _OPENS for t in ("19", "20", *_SPACES))
_YEAR_ANCHORS = frozenset(ANCHOR_WORDS)


def find_malformed_document_numbers(text: str, anchors: Anchors | None = None) -> Iterator[Finding]:
    """Anchored on the bracketed year, the rare part, then the issuer's code before it.
    ``anchors``: where the checker's automaton found :data:`ANCHOR_WORDS` in ``text``."""
    if anchors is None:
        years: Iterable[re.Match[str]] = _YEAR_NUMBER.finditer(text) if "号" in text else ()
    else:
        years = anchored(_YEAR_NUMBER, text, near(anchors, _YEAR_ANCHORS))
    for m in years:
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
