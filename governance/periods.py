"""Report periods (报告时段): the named ones (本月, 上季度, …) and dates typed by hand; split from
:mod:`governance.reporting`, which fills a period with figures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from governance.activity import DAY
from governance.errors import InvalidInput
from governance.i18n import N_

PERIOD_KINDS = ("week", "month", "quarter", "year", "last_month", "last_quarter")
PERIOD_LABELS: dict[str, str] = {
    "week": N_("近7天"),
    "month": N_("本月"),
    "last_month": N_("上月"),
    "quarter": N_("本季度"),
    "last_quarter": N_("上季度"),
    "year": N_("本年"),
    "dates": N_("自定义日期"),
}
MAX_PERIOD_DAYS = 3 * 366
_DATES = re.compile(
    r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*[~～至到—-]+\s*"
    r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?\s*$"
)
BAD_DATES = N_("日期格式不对。请按“2026-01-01~2026-03-31”的格式输入起止日期。")
BAD_DAY = N_("日期不存在：{text}。")
END_BEFORE_START = N_("结束日期不能早于开始日期。")
START_IN_FUTURE = N_("开始日期不能晚于今天。")
TOO_LONG = N_("时间段太长：最多 {days} 天。")


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days ``start`` to ``end`` inclusive, in the office's zone."""

    start: date
    end: date
    kind: str = "dates"

    @property
    def label(self) -> str:
        return f"{self.start.isoformat()} ~ {self.end.isoformat()}"

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """UTC instants: the period's first moment and the moment after its last day."""
        start = datetime.combine(self.start, time(), tzinfo=tz).astimezone(UTC)
        end = datetime.combine(self.end + DAY, time(), tzinfo=tz).astimezone(UTC)
        return start, end


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_for(kind: str, today: date) -> Period:
    """The named period that contains (or just precedes) ``today``; current ones end today."""
    if kind == "week":
        return Period(today - timedelta(days=6), today, kind)
    if kind == "month":
        return Period(today.replace(day=1), today, kind)
    if kind == "last_month":
        end = today.replace(day=1) - DAY
        return Period(end.replace(day=1), end, kind)
    if kind == "quarter":
        return Period(_quarter_start(today), today, kind)
    if kind == "last_quarter":
        end = _quarter_start(today) - DAY
        return Period(_quarter_start(end), end, kind)
    if kind == "year":
        return Period(date(today.year, 1, 1), today, kind)
    raise ValueError(f"unknown period kind {kind!r}")


def parse_dates(text: str, today: date) -> Period:
    """``2026-01-01~2026-03-31`` (also 2026/1/1 至 2026/3/31, 2026年1月1日~…) as a period.

    An end after today is cut to today: a report cannot know the future.
    """
    match = _DATES.match(text[:60])
    if match is None:
        raise InvalidInput(BAD_DATES)
    numbers = [int(g) for g in match.groups()]
    days = []
    for y, m, d in (numbers[:3], numbers[3:]):
        try:
            days.append(date(y, m, d))
        except ValueError:
            raise InvalidInput(BAD_DAY, text=f"{y}-{m:02d}-{d:02d}") from None
    start, end = days
    if end < start:
        raise InvalidInput(END_BEFORE_START)
    if start > today:
        raise InvalidInput(START_IN_FUTURE)
    end = min(end, today)
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(TOO_LONG, days=MAX_PERIOD_DAYS)
    return Period(start, end, "dates")
