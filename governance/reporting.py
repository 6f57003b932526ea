"""Reports (报告): periods, per-account and per-unit figures, and the quarterly inspection.

Pure: the caller loads accounts, post times and findings; this module turns them into the rows
the workbook and the charts show. Figures are "as of" the period's end (or now, if sooner), so a
quarter report made in May says what the quarter looked like, not what May looks like.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from governance.activity import (
    DAY,
    ActivityThresholds,
    DormancyState,
    PollHealth,
    compute_activity,
)
from governance.errors import InvalidInput
from governance.i18n import N_
from governance.scoring import (
    AccountFacts,
    Score,
    ScoringRules,
    UnitRank,
    rank_units,
    score_account,
)
from governance.vocabulary import severity_rank

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
_DORMANT = DormancyState.DORMANT.severity
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


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountInput:
    id: int
    name: str
    unit: str
    platform: str
    status: str
    registered_at: datetime
    planned_per_week: float | None
    post_times: Sequence[datetime]
    """Times of the posts that count as activity (any date; later ones are ignored)."""
    poll_health: PollHealth
    polled: bool = True
    cases: int | None = None
    reviews: int | None = None
    """Drafts submitted for pre-publication review in the period (None: not known)."""
    approved: int = 0
    unreviewed: int = 0
    """Posts of the period published without an approved draft."""


@dataclass(frozen=True, slots=True)
class FindingInput:
    account_id: int
    category: str
    severity: str
    problem: str
    """What identifies the problem on its account (the same defect on ten posts is one)."""
    text: str
    excerpt: str
    title: str
    link: str | None
    found_at: datetime
    status: str


# --- outputs --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountLine:
    account: AccountInput
    posts: int
    longest_gap_days: float | None
    days_dormant: int
    state: DormancyState
    below_plan: bool
    feed_broken: bool
    problems: Mapping[str, int]
    score: Score


@dataclass(frozen=True, slots=True)
class UnitLine:
    unit: str
    accounts: int
    posts: int
    problems: int
    dormant: int
    rank: UnitRank

    @property
    def average_failed(self) -> tuple[float, int]:
        return self.rank.average, self.rank.failed


@dataclass(frozen=True, slots=True)
class Verdict:
    account: AccountLine
    outcome: str  # pass | fail | unverified
    reasons: tuple[tuple[str, Mapping[str, object]], ...]


VERDICT_LABELS = {"pass": N_("合格"), "fail": N_("不合格"), "unverified": N_("需人工核查")}
REASON_NO_UPDATE = N_("检查前 {days} 天内未更新（最近更新：{last}）")
REASON_VETO = N_("存在单项否决问题：{category} {n} 处")
REASON_BROKEN = N_("监测源异常，无法确认更新情况，需人工核查")
REASON_NEVER_POLLED = N_("尚未成功抓取，需人工核查")
REASON_OK = N_("检查前 {days} 天内有更新，无单项否决问题")


@dataclass(frozen=True, slots=True)
class Inspection:
    checked_at: datetime
    ratio: float
    seed: int
    candidates: tuple[int, ...]
    verdicts: tuple[Verdict, ...]


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    scope: str
    generated_at: datetime
    as_of: datetime
    accounts: tuple[AccountLine, ...]
    units: tuple[UnitLine, ...]
    findings: tuple[tuple[AccountInput, FindingInput], ...]
    weekly: Mapping[str, Sequence[tuple[date, int]]]
    """Posts per week per unit; weeks start on Monday."""
    states: Mapping[DormancyState, int]
    categories: Mapping[str, int]
    inspection: Inspection | None = None
    show_cases: bool = False
    show_reviews: bool = False
    passed: int = field(default=0)


def period_figures(
    times: Sequence[datetime], *, start: datetime, end: datetime, registered_at: datetime
) -> tuple[int, float | None]:
    """Posts in ``[start, end)`` and the longest silence inside the period, in days.

    The silence runs from the period's start (or registration) to the first post, between posts
    and from the last post to the end, so an account silent all period shows the whole period.
    """
    inside = sorted(t for t in times if start <= t < end)
    opened = max(start, registered_at)
    if opened >= end:
        return 0, None
    marks = [opened, *(t for t in inside if t >= opened), end]
    longest = max((b - a) / DAY for a, b in itertools.pairwise(marks))
    return len(inside), round(longest, 1)


def weeks_of(start: date, end: date) -> list[date]:
    first = start - timedelta(days=start.weekday())
    return [first + timedelta(weeks=i) for i in range((end - first).days // 7 + 1)]


def build_report(
    accounts: Sequence[AccountInput],
    findings: Sequence[FindingInput],
    *,
    period: Period,
    scope: str,
    now: datetime,
    tz: ZoneInfo,
    rules: ScoringRules,
    thresholds: ActivityThresholds | None = None,
) -> Report:
    """Every figure of the report; ``findings`` are those found in the period."""
    thresholds = thresholds or ActivityThresholds()
    start, end = period.bounds(tz)
    as_of = min(end, now)
    problems: dict[int, Counter[str]] = {}
    seen: set[tuple[int, str]] = set()
    for f in findings:
        if (f.account_id, f.problem) not in seen:
            seen.add((f.account_id, f.problem))
            problems.setdefault(f.account_id, Counter())[f.category] += 1
    lines: list[AccountLine] = []
    weeks = weeks_of(period.start, period.end)
    weekly: dict[str, Counter[date]] = {}
    for account in accounts:
        activity = compute_activity(
            account.post_times,
            registered_at=min(account.registered_at, as_of),
            planned_per_week=account.planned_per_week,
            now=as_of,
            poll_health=account.poll_health,
            thresholds=thresholds,
        )
        broken = activity.feed_broken or not account.polled
        state = DormancyState.UNKNOWN if broken else activity.state
        posts, gap = period_figures(
            account.post_times, start=start, end=as_of, registered_at=account.registered_at
        )
        counts = weekly.setdefault(account.unit, Counter())
        for t in account.post_times:
            if start <= t < as_of:
                local = t.astimezone(tz).date()
                counts[local - timedelta(days=local.weekday())] += 1
        found = problems.get(account.id, Counter())
        facts = AccountFacts(state, activity.below_plan and not broken, broken, found)
        lines.append(
            AccountLine(
                account=account,
                posts=posts,
                longest_gap_days=gap,
                days_dormant=activity.days_since_last_post,
                state=state,
                below_plan=facts.below_plan,
                feed_broken=broken,
                problems=dict(found),
                score=score_account(facts, rules),
            )
        )
    lines.sort(key=lambda line: (line.account.unit, line.account.id))
    ranks = {r.unit: r for r in rank_units((line.account.unit, line.score) for line in lines)}
    units = []
    for unit, rank in ranks.items():
        mine = [line for line in lines if line.account.unit == unit]
        units.append(
            UnitLine(
                unit=unit,
                accounts=rank.accounts,
                posts=sum(line.posts for line in mine),
                problems=sum(sum(line.problems.values()) for line in mine),
                dormant=sum(1 for line in mine if line.state.severity >= _DORMANT),
                rank=rank,
            )
        )
    units.sort(key=lambda u: (u.rank.rank, u.unit))
    by_id = {a.id: a for a in accounts}
    listed = tuple(
        (by_id[f.account_id], f)
        for f in sorted(
            findings, key=lambda f: (f.found_at, f.account_id, severity_rank(f.severity))
        )
        if f.account_id in by_id
    )
    return Report(
        period=period,
        scope=scope,
        generated_at=now,
        as_of=as_of,
        accounts=tuple(lines),
        units=tuple(units),
        findings=listed,
        weekly={unit: [(w, counts.get(w, 0)) for w in weeks] for unit, counts in weekly.items()},
        states=Counter(line.state for line in lines),
        categories=Counter(f.category for _a, f in listed),
        show_cases=any(a.cases is not None for a in accounts),
        show_reviews=any(a.reviews is not None for a in accounts),
        passed=sum(1 for line in lines if line.score.passed),
    )


# --- the quarterly inspection ---------------------------------------------------------------


def draw_sample(ids: Sequence[int], *, ratio: float, seed: int, minimum: int = 1) -> list[int]:
    """A reproducible random sample: the same ids, ratio and seed always draw the same accounts.

    The ids are sorted first, so the order the database returned them in does not matter.
    """
    if not 0 < ratio <= 1:
        raise ValueError("ratio must be in (0, 1]")
    pool = sorted(set(ids))
    size = min(len(pool), max(minimum, math.ceil(len(pool) * ratio)))
    return sorted(random.Random(seed).sample(pool, size))


def judge(
    line: AccountLine,
    *,
    open_vetoes: Mapping[str, int],
    checked_at: datetime,
    rules: ScoringRules,
    tz: ZoneInfo,
) -> Verdict:
    """One sampled account against the national rules as of ``checked_at``.

    Fails on no update in the ``update_days`` before the check, or any open veto problem. A
    feed that cannot be read proves nothing either way: the account needs a look by hand.
    """
    reasons: list[tuple[str, Mapping[str, object]]] = []
    failed = False
    times = [t for t in line.account.post_times if t <= checked_at]
    last = max(times, default=None)
    if line.feed_broken:
        reasons.append((REASON_NEVER_POLLED if not line.account.polled else REASON_BROKEN, {}))
    elif last is None or checked_at - last >= rules.update_days * DAY:
        failed = True
        shown = last.astimezone(tz).strftime("%Y-%m-%d") if last else "—"
        reasons.append((REASON_NO_UPDATE, {"days": rules.update_days, "last": shown}))
    for category, n in sorted(open_vetoes.items()):
        if n > 0:
            failed = True
            reasons.append((REASON_VETO, {"category": category, "n": n}))
    if failed:
        outcome = "fail"
    elif line.feed_broken:
        outcome = "unverified"
    else:
        outcome = "pass"
        reasons.append((REASON_OK, {"days": rules.update_days}))
    return Verdict(line, outcome, tuple(reasons))


def inspect(
    report: Report,
    *,
    open_vetoes: Mapping[int, Mapping[str, int]],
    seed: int,
    rules: ScoringRules,
    tz: ZoneInfo,
    ratio: float | None = None,
) -> Report:
    """The report with its inspection: a sample of the accounts in use, each judged."""
    candidates = [
        line.account.id
        for line in report.accounts
        if line.account.status in {"active", "rectifying"}
    ]
    share = ratio if ratio is not None else rules.sample_ratio
    drawn = set(draw_sample(candidates, ratio=share, seed=seed, minimum=rules.sample_minimum))
    verdicts = tuple(
        judge(
            line,
            open_vetoes=open_vetoes.get(line.account.id, {}),
            checked_at=report.as_of,
            rules=rules,
            tz=tz,
        )
        for line in report.accounts
        if line.account.id in drawn
    )
    inspection = Inspection(report.as_of, share, seed, tuple(sorted(candidates)), verdicts)
    return replace(report, inspection=inspection)
