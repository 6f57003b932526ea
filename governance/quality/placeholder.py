"""Unfilled template text: xx年, 共xxx人, XX县, ○○, 某某, 【请填写】, {{name}}.

Each pattern carries the guard that keeps real text quiet: an x-run must touch a CJK
character or a digit (so XXL, www.xxx.gov.cn and words stay quiet); ○○ next to a Chinese
numeral is a year (二○○八); 某某 right after a surname is lawful anonymisation (张某某).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from .anchors import Anchors, anchored, occurs
from .model import Finding, make_finding

_CJK = r"\u3400-\u9fff"
_XRUN = r"(?:[xXＸｘ]{2,}|×{2,})"
_MEASURE = "个家人次期项名条件所座台套户元万亿天月日年号批批次场篇份位家次处宗笔"
_X = re.compile(
    # runs joined by - . ~ 至 (xxxx-xxxx年, x.x亿) are one placeholder
    rf"(?<![A-Za-z])(?:{_XRUN}|[xX×](?=[.．][xX×]))(?:[.．\-~～—至](?:{_XRUN}|[xX×]))*(?![A-Za-z])"
    r"|(?<=[0-9])[xX]{1,3}(?=[年月日号])"
    r"|(?<![A-Za-z0-9])[xXＸ](?=月)"
    r"|(?<=月)[xXＸ](?=日)"
    rf"|(?<![A-Za-z0-9.])[xXＸ×](?=[{_MEASURE}])"
)
_ANY_X = re.compile(r"[xXＸｘ×]")
_BRACKET_WORDS = ("填写", "输入", "待", "此处", "插入", "补充", "替换")
_CIRCLE = re.compile(r"○{2,}")
_MOU = re.compile(r"某某+")
_BRACKET = re.compile(
    r"[【\[（(〔{]\s*[^【】\[\]（）()〔〕{}\n]{0,12}"
    r"(?:请填写|请输入|填写|待填|待补充|待完善|待定|此处|插入|请补充|请替换)"
    r"[^【】\[\]（）()〔〕{}\n]{0,12}[】\]）)〕}]"
)
_TEMPLATE = re.compile(r"\{\{[^{}\n]{1,40}\}\}|\$\{[^{}\n]{1,40}\}|%%[A-Za-z_]{1,30}%%")
_NUMERAL = frozenset("〇○零一二三四五六七八九十")
# Chinese context: CJK ideographs, digits, CJK and full-width punctuation.
_CJK_OR_DIGIT = re.compile(rf"[{_CJK}0-9\u3000-\u303f\uff00-\uffef“”‘’]")
# ASCII context that still reads as a filled-in form ("， xx个", ": xxx", "(xx)"), unless
# the other side is part of a word or a host name (www.xxx.gov.cn, xx_yy).
_CJK_NEAR = re.compile(rf"[{_CJK}]")
_ASCII_AROUND = re.compile(r"[\s,;:()\[\]\"'!?]")


#: Strings without which no rule below can match (lowered): a text holding none of them has no
#: placeholder, which the checker learns from its one automaton pass instead of scanning again.
#: ``X_TRIGGERS`` open the x-run rule (a scan of the whole text): every way ``_X`` can start,
#: lowered (X → x, Ｘ → ｘ): two x in a row, x before a dot, x next to 年月日号, x before a
#: measure word. A lone x in a word or a unit (2x, Wi-Fi box) opens nothing.
X_TRIGGERS: tuple[str, ...] = (
    *(a + b for a in "xｘ" for b in "xｘ"),
    "××",
    *(a + b for a in "x×" for b in ".．"),
    *(a + b for a in "xｘ" for b in "年月日号"),
    "月x",
    "月ｘ",
    *(a + b for a in "xｘ×" for b in dict.fromkeys(_MEASURE)),
)
TRIGGERS: tuple[str, ...] = (
    "○○", "某某", "{{", "${", "%%",
    # the words ``_BRACKET`` needs (待 alone, common in any text, is not one)
    "填写", "输入", "待填", "待补充", "待完善", "待定", "此处", "插入", "补充", "替换",
)  # fmt: skip


_BRACKET_TRIGGERS = TRIGGERS[5:]  # 填写 … 替换
_TEMPLATE_TRIGGERS = ("{{", "${", "%%")
_X_TRIGGER_SET = frozenset(X_TRIGGERS)
#: The words whose positions the checker's automaton reports to :func:`find_placeholders`.
ANCHOR_WORDS: tuple[str, ...] = (*TRIGGERS, *X_TRIGGERS)


def find_placeholders(
    text: str, surnames: frozenset[str], *, anchors: Anchors | None = None
) -> Iterator[Finding]:
    """``anchors``: where the checker's automaton found :data:`ANCHOR_WORDS` (lowered) in
    ``text``; None: every rule looks for itself."""
    if anchors is None:
        x_runs = True
        circles: Iterable[re.Match[str]] = _CIRCLE.finditer(text) if "○○" in text else ()
        mou: Iterable[re.Match[str]] = _MOU.finditer(text) if "某某" in text else ()
        bracket = any(w in text for w in _BRACKET_WORDS)
        template = "{{" in text or "${" in text or "%%" in text
    else:  # the same gates, read off the automaton's output
        x_runs = not _X_TRIGGER_SET.isdisjoint(anchors.keys())
        circles = anchored(_CIRCLE, text, anchors.get("○○", ()))
        mou = anchored(_MOU, text, anchors.get("某某", ()))
        bracket = occurs(anchors, _BRACKET_TRIGGERS)  # every word _BRACKET needs holds one
        template = occurs(anchors, _TEMPLATE_TRIGGERS)
    covered = -1
    for x in _ANY_X.finditer(text) if x_runs else ():
        if x.start() < covered:
            continue
        m = _X.match(text, x.start())
        if m is None:
            continue
        s, e = m.span()
        covered = e
        before, after = text[s - 1 : s], text[e : e + 1]
        if _CJK_OR_DIGIT.search(before + after) or (
            (_ASCII_AROUND.fullmatch(before) or not before)
            and (_ASCII_AROUND.fullmatch(after) or not after)
            and _CJK_NEAR.search(text, max(0, s - 4), e + 4)
        ):
            yield make_finding(text, "placeholder", s, e, "填写实际内容", "placeholder.x")
    for m in circles:
        s, e = m.span()
        if text[s - 1 : s] not in _NUMERAL and text[e : e + 1] not in _NUMERAL:
            yield make_finding(text, "placeholder", s, e, "填写实际内容", "placeholder.circle")
    for m in mou:
        s, e = m.span()
        prev = text[s - 1 : s]
        prev2 = text[s - 2 : s]
        if e - s == 2 and prev and (prev in surnames or prev2 in surnames):
            continue  # 张某某 is lawful anonymisation; nobody is called 张某某某
        yield make_finding(text, "placeholder", s, e, "填写实际名称", "placeholder.mou")
    for rx, rule, present in (
        (_BRACKET, "placeholder.bracket", bracket),
        (_TEMPLATE, "placeholder.template", template),
    ):
        for m in rx.finditer(text) if present else ():
            yield make_finding(text, "placeholder", m.start(), m.end(), "填写实际内容", rule)
