"""Dates as Chinese government sites print them, in text and in link paths.

Text: ``2026-11-30``, ``2026年11月30日``, ``2026.11.30``, ``2026/11/30``, with an optional time
(``10:20``, ``10:20:00``), full-width digits too; 今天, 昨天, 3小时前, 2天前. Year-less
``11-30``, ``[11-30]``, ``(11-30)``, ``11月30日`` take the most recent year that does not put
the date after ``today``. Links: the date a CMS writes into the path (TRS
``/202611/t20261130_1.html``, Hanweb ``/art/2026/11/30/``, ``/2026/11/30/``, ``/2026-11/30/``,
``/2026/1130/``, or an id that starts with ``20261130``).

A year-less date is only trusted when it stands alone in its piece of text (a ``<span>`` or the
text after a link): inside a title, "关于11月30日停电的通知" is not a publication date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

_FULLWIDTH = str.maketrans("０１２３４５６７８９－／．：　［］（）", "0123456789-/.: []()")
_TIME = (
    r"(?:\s*T?\s*(\d{1,2})\s*[:时]\s*(\d{1,2})(?:\s*[:分]\s*(\d{1,2}))?"
    r"(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_FULL = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?!\d)\s*日?"
    + _TIME
)
_SHORT = re.compile(r"(?<![\d./-])(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})(?![\d./-])\s*日?" + _TIME)
# What may stand around a date in its own piece of text and still leave it "just a date".
_LABELS = re.compile(
    r"(?:发布|更新|成文|印发|生效|公开|发文|录入|创建)?(?:日期|时间)|发布于|发布|更新|日期|时间"
    r"|date|time|[\s\[\]()【】〔〕<>《》:·|,，、;；\-_~]",
    re.IGNORECASE,
)
_LINK_PATTERNS = (
    re.compile(r"/t((?:19|20)\d{2})(\d{2})(\d{2})_"),
    re.compile(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})/"),
    re.compile(r"/((?:19|20)\d{2})(\d{2})/(\d{2})/"),
    re.compile(r"/((?:19|20)\d{2})/(\d{2})(\d{2})/"),
    re.compile(r"[/_=-]((?:19|20)\d{2})(\d{2})(\d{2})\d{0,9}(?=[/_.?&#-]|$)"),
)
_RELATIVE = re.compile(
    r"^(?:(今天|今日|刚刚)|(昨天|昨日)|(前天)|(\d{1,2})\s*(?:分钟|小时)前|(\d{1,2})\s*天前)$"
)
_MAX_AHEAD = timedelta(days=366)
_MAYBE = re.compile(r"\d|今|昨|前|刚")


@dataclass(frozen=True, slots=True)
class FoundDate:
    day: date
    at: time | None
    full: bool  # the year was printed (not inferred)


def normalise(text: str) -> str:
    """Full-width digits and separators as ASCII (``２０２６－１１－３０``)."""
    return text.translate(_FULLWIDTH)


def _time(groups: tuple[str | None, ...]) -> time | None:
    hour, minute, second = groups
    if hour is None or minute is None:
        return None
    try:
        return time(int(hour), int(minute), int(second or 0))
    except ValueError:
        return None


def _full(match: re.Match[str], today: date) -> FoundDate | None:
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    if day.year < 1990 or day > today + _MAX_AHEAD:
        return None
    return FoundDate(day, _time((match[4], match[5], match[6])), True)


def infer_year(month: int, day: int, today: date) -> date | None:
    """The most recent ``month``-``day`` on or before ``today`` (a day ahead tolerated for the
    time zone); ``None`` for an impossible day. 29 February looks back up to eight years."""
    limit = today + timedelta(days=1)
    for year in range(limit.year, limit.year - 9, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            if month == 2 and day == 29:
                continue
            return None
        if candidate <= limit:
            return candidate
    return None


def _short(match: re.Match[str], today: date) -> FoundDate | None:
    inferred = infer_year(int(match[1]), int(match[2]), today)
    if inferred is None:
        return None
    return FoundDate(inferred, _time((match[3], match[4], match[5])), False)


def find_full_dates(text: str, today: date) -> list[FoundDate]:
    """Every date with its year in ``text``."""
    found = (_full(m, today) for m in _FULL.finditer(normalise(text)))
    return [f for f in found if f is not None]


def piece_date(text: str, today: date) -> FoundDate | None:
    """The date ``text`` consists of (labels such as 发布时间：, brackets and spaces aside), or
    ``None`` when the text says more than a date."""
    text = normalise(text).strip()
    if not text or len(text) > 40 or not _MAYBE.search(text):
        return None
    relative = _RELATIVE.match(_LABELS.sub("", text))
    if relative is not None:
        return _relative(relative, today)
    for pattern, read in ((_FULL, _full), (_SHORT, _short)):
        match = pattern.search(text)
        if match is None:
            continue
        rest = text[: match.start()] + text[match.end() :]
        if _LABELS.sub("", rest):
            return None
        return read(match, today)
    return None


def _relative(match: re.Match[str], today: date) -> FoundDate:
    """今天, 昨天, 前天, 3小时前, 2天前: what newer CMSes print for the last days."""
    if match[2]:
        days = 1
    elif match[3]:
        days = 2
    elif match[5]:
        days = int(match[5])
    else:
        days = 0
    return FoundDate(today - timedelta(days=days), None, False)


def link_date(url: str, today: date) -> date | None:
    """The publication date a CMS wrote into the link's path, if any."""
    path = url.split("://", 1)[-1]
    slash = path.find("/")
    if slash < 0:
        return None
    path = path[slash:]
    for pattern in _LINK_PATTERNS:
        for match in pattern.finditer(path):
            try:
                day = date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                continue
            if day.year >= 1990 and day <= today + timedelta(days=1):
                return day
    return None
