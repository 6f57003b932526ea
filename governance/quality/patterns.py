"""Turning the dictionaries into (pattern, Entry) pairs for one Aho-Corasick automaton.

Everything matched by literal strings lives in a single automaton: dictionary words,
generated variants (synonym-substituted official phrases, wrong province/city pairs,
brand+suffix spam, 届/次 slips in congress names) and allow-list phrases. The default
pairs are computed once and cached; a rebuild with admin changes only appends to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .data import DefaultData, load_default_data
from .model import CATEGORIES, Customization
from .spun import FORMULATION, spun_lexicon

ALLOW = "allow"
STANDARD = "standard"  # a standard formulation: its own near misses are quiet inside it
SPUN = "spun"  # a near miss of a standard formulation


@dataclass(frozen=True, slots=True)
class Entry:
    """What a literal match means. `kind` selects the context rule applied to it:

    plain — report as is; allow — suppress findings inside it; standard — a correct
    standard formulation, suppresses near misses inside it; spun — a near miss of one,
    quiet when it runs into a frequent word of the text; enforce — gambling/porn
    vocabulary, quiet in law-enforcement sentences; official — a removed official's name,
    reported only next to an official title and outside a downfall report.
    """

    category: str
    rule: str
    suggestion: str | None = None
    kind: str = "plain"
    unless_after: re.Pattern[str] | None = None


_NUMERALS = [
    "十五", "十六", "十七", "十八", "十九", "二十", "二十一", "二十二", "二十三", "二十四",
    "二十五",
]  # fmt: skip
_PLENUMS = ["一", "二", "三", "四", "五", "六", "七", "八", "九"]


# A transitive verb followed by its object is ordinary text (高质量开展主题教育).
_OBJECT_FOLLOWS = re.compile(r"(?![的和与及])[\u4e00-\u9fff]")


def _near_misses() -> list[tuple[str, Entry]]:
    """Spun variants of standard formulations (spun.py) and the standard forms themselves."""
    lexicon = spun_lexicon()
    out = [(form, Entry(STANDARD, STANDARD, None, STANDARD)) for form, _kind in lexicon.standards]
    for miss in lexicon.near_misses:
        unless = _OBJECT_FOLLOWS if miss.at_phrase_end else None
        if miss.kind == FORMULATION:
            entry = Entry("wording", "wording.formulation", miss.standard, SPUN, unless)
        else:
            entry = Entry("typo", "typo.phrase", miss.standard, SPUN, unless)
        out.append((miss.variant, entry))
    return out


def _region_pairs(data: DefaultData) -> list[tuple[str, Entry]]:
    """Province followed directly by a prefecture that belongs elsewhere (四川省重庆市)."""
    owner = {city: p.name for p in data.provinces for city in p.cities}
    for p in data.provinces:
        if p.name.endswith("市"):  # municipalities are prefectures of themselves
            owner[p.name] = p.name
    out = []
    for p in data.provinces:
        if p.name.endswith(("市", "特别行政区")):
            continue  # lists of municipalities run together too often to judge
        heads = [p.name] + ([p.short] if p.name.endswith("自治区") else [])
        for city, parent in owner.items():
            if parent != p.name:
                suggestion = f"{city}属于{parent}" if parent != city else f"{city}是直辖市"
                for head in heads:
                    out.append((head + city, Entry("wording", "wording.region", suggestion)))
    return out


def _congress_slips() -> list[tuple[str, Entry]]:
    """届 and 次 swapped: the Party Congress is a 次, the Central Committee a 届."""
    out = []
    for n in _NUMERALS:
        out.append(
            (f"第{n}届全国代表大会", Entry("wording", "wording.congress", f"第{n}次全国代表大会"))
        )
        out.append(
            (f"{n}届全国代表大会", Entry("wording", "wording.congress", f"{n}次全国代表大会"))
        )
        out.append(
            (f"第{n}次中央委员会", Entry("wording", "wording.congress", f"第{n}届中央委员会"))
        )
        for k in _PLENUMS:
            out.append((f"{n}次{k}中全会", Entry("wording", "wording.congress", f"{n}届{k}中全会")))
    return out


def _vice_spam(
    data: DefaultData, category: str, rows: tuple[tuple[str, str], ...]
) -> list[tuple[str, Entry]]:
    out: list[tuple[str, Entry]] = []
    for word, kind in rows:
        if kind == "term":
            out.append((word, Entry(category, f"{category}.term", None, "enforce")))
        elif kind == "brand":
            for suffix in data.spam_suffixes:
                out.append((word + suffix, Entry(category, f"{category}.brand", None)))
    return out


@lru_cache(maxsize=1)
def default_pairs() -> tuple[tuple[str, Entry], ...]:
    """All literal patterns of the shipped data, built once per process."""
    data = load_default_data()
    pairs: list[tuple[str, Entry]] = []
    for wrong, right, unless in data.typos:
        rx = re.compile(unless) if unless else None
        pairs.append((wrong, Entry("typo", "typo.dict", right, "plain", rx)))
    pairs += _near_misses()
    for wrong, right, _note in data.wording:
        pairs.append((wrong, Entry("wording", "wording.dict", right)))
    pairs += _region_pairs(data)
    pairs += _congress_slips()
    pairs += _vice_spam(data, "gambling", data.gambling)
    pairs += _vice_spam(data, "porn", data.porn)
    for phrase, _note in data.ad:
        pairs.append((phrase, Entry("ad", "ad.phrase", "删除转载残留")))
    for phrase in (*data.allow, *data.typo_allow):
        pairs.append((phrase, Entry(ALLOW, ALLOW, None, ALLOW)))
    for phrase in _PLACEHOLDER_PHRASES:
        pairs.append((phrase, Entry("placeholder", "placeholder.phrase", "填写实际内容")))
    return tuple((p.lower(), e) for p, e in pairs)


# Template instructions left in published text (Word/WPS/PowerPoint and CMS templates).
_PLACEHOLDER_PHRASES = (
    "此处填写", "此处输入", "此处插入", "请在此处输入", "请在此输入", "在此处输入",
    "单击此处添加", "点击此处添加", "点击此处输入", "单击此处输入", "请输入标题", "请输入正文",
    "请输入内容", "此处为正文", "正文内容待补充", "内容待补充", "待补充内容",
)  # fmt: skip


def build_pairs(custom: Customization) -> list[tuple[str, Entry]]:
    """Shipped pairs minus disabled words, plus the admins' words, allow-list and names."""
    disabled = {w.lower() for w in custom.disabled}
    pairs = [(p, e) for p, e in default_pairs() if p not in disabled or e.kind == ALLOW]
    for w in custom.words:
        if w.category not in CATEGORIES or w.category == "dead_link":
            raise ValueError(f"unknown word category: {w.category!r}")
        if w.word.strip():
            kind = "enforce" if w.category in ("gambling", "porn") else "plain"
            pairs.append(
                (
                    w.word.strip().lower(),
                    Entry(w.category, f"{w.category}.custom", w.suggestion, kind),
                )
            )
    for phrase in custom.allow:
        if phrase.strip():
            pairs.append((phrase.strip().lower(), Entry(ALLOW, ALLOW, None, ALLOW)))
    for name in custom.removed_officials:
        if len(name.strip()) >= 2:
            pairs.append(
                (
                    name.strip().lower(),
                    Entry(
                        "wording",
                        "wording.removed_official",
                        "删除或核实已落马官员的职务表述",
                        "official",
                    ),
                )
            )
    return pairs
