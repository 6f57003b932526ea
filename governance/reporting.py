"""Reports (报告): periods, per-account and per-unit figures, and the quarterly inspection.

Pure: the caller loads accounts, post times and findings; this module turns them into the rows
the workbook and the charts show. Figures are "as of" the period's end (or now, if sooner), so a
quarter report made in May says what the quarter looked like, not what May looks like.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from governance.activity import (
    DAY,
    ActivityThresholds,
    DormancyState,
    PollHealth,
    compute_activity,
    dormancy_state,
    is_feed_broken,
)
from governance.evidence import (
    FAULT_LABELS,
    READABLE,
    Fault,
    FeedReading,
    Lack,
    Silence,
    covered_from,
    silence_as_of,
)
from governance.i18n import N_
from governance.periods import Period
from governance.quality.pii import mask_pii
from governance.reposts import TaskReport
from governance.scoring import (
    AccountFacts,
    Score,
    ScoringRules,
    UnitRank,
    rank_units,
    score_account,
)
from governance.websites import WebsiteLine

_DORMANT = DormancyState.DORMANT.severity
_RANK = {"veto": 0, "serious": 1, "general": 2}


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
    reading: FeedReading | None = None
    """Whether the feed was read for the period (None: judged from ``poll_health``/``polled``)."""
    oldest_seen: datetime | None = None
    """The oldest item the feed ever showed (counting or not)."""
    registered_known: bool = True
    """False where ``registered_at`` is a stand-in (an inspector's throwaway import)."""
    opened_at: datetime | None = None
    """The account's opening date from a ledger, when it gives one."""
    reposts_missed: int = 0
    """Repost tasks due in the period that the account did not repost."""


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
    published_at: datetime | None = None
    """When the post carrying the finding was published (None: no post)."""


# --- outputs --------------------------------------------------------------------------------


PASS, FAIL, UNASSESSABLE = "pass", "fail", "unassessable"
OUTCOMES = (PASS, FAIL, UNASSESSABLE)


@dataclass(frozen=True, slots=True)
class AccountLine:
    account: AccountInput
    posts: int
    longest_gap_days: float | None
    days_dormant: int | None
    """Days without a post as of the period's end; None when there is no evidence."""
    state: DormancyState
    below_plan: bool
    feed_broken: bool
    problems: Mapping[str, int]
    score: Score
    """Content-only when activity is unknown; shown only for scored lines."""
    outcome: str = PASS
    """pass, fail, or unassessable (无法评估: counted apart and never scored)."""
    reading: FeedReading = READABLE
    silence: Silence | None = None
    plan_judged: bool = True
    covered_from: datetime | None = None
    """Posts before this moment cannot be known: set when it falls inside the period."""

    @property
    def scored(self) -> bool:
        return self.outcome != UNASSESSABLE


@dataclass(frozen=True, slots=True)
class ProblemLine:
    """One distinct problem of an account in the period (the same defect on ten posts is one):
    the unit every problem total counts. Text is already masked."""

    account: AccountInput
    category: str
    severity: str
    text: str
    excerpt: str
    title: str
    link: str | None
    published_at: datetime | None
    found_at: datetime
    occurrences: int
    status: str


@dataclass(frozen=True, slots=True)
class UnitLine:
    unit: str
    accounts: int
    posts: int
    problems: int
    dormant: int
    rank: UnitRank
    passed: int = 0
    failed: int = 0
    unassessable: int = 0

    @property
    def average_failed(self) -> tuple[float, int]:
        return self.rank.average, self.rank.failed


@dataclass(frozen=True, slots=True)
class Verdict:
    account: AccountLine
    outcome: str  # pass | fail | unassessable
    reasons: tuple[tuple[str, Mapping[str, object]], ...]


VERDICT_LABELS = {PASS: N_("合格"), FAIL: N_("不合格"), UNASSESSABLE: N_("无法评估")}
REASON_NO_UPDATE = N_("检查前 {days} 天内未更新（最近更新：{last}）")
REASON_VETO = N_("存在单项否决问题：{category} {n} 处")
REASON_FAULT = N_("无法评估：{fault}")
REASON_LACK = N_("无法评估更新情况：{lack}")
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
    findings: tuple[ProblemLine, ...]
    """Every distinct problem of the period: the detail every problem total counts."""
    weekly: Mapping[str, Sequence[tuple[date, int]]]
    """Posts per week per unit; weeks start on Monday."""
    states: Mapping[DormancyState, int]
    categories: Mapping[str, int]
    inspection: Inspection | None = None
    show_cases: bool = False
    show_reviews: bool = False
    passed: int = field(default=0)
    failed: int = 0
    unassessable: int = 0
    partial_weeks: tuple[date, ...] = ()
    """Mondays of the first and last weeks when the period starts or ends inside them."""
    websites: tuple[WebsiteLine, ...] = ()
    """Government websites in scope, judged by the website rules (their own sheet)."""
    reposts: tuple[TaskReport, ...] = ()
    """Repost tasks due in the period (转载任务), each account's progress."""

    @property
    def outcomes(self) -> dict[str, int]:
        return {PASS: self.passed, FAIL: self.failed, UNASSESSABLE: self.unassessable}

    @property
    def vetoes(self) -> int:
        return sum(1 for p in self.findings if p.severity == "veto")


def period_figures(
    times: Sequence[datetime], *, start: datetime, end: datetime, registered_at: datetime | None
) -> tuple[int, float | None]:
    """Posts in ``[start, end)`` and the longest silence inside the period, in days.

    The silence runs from the period's start (or, if later, the moment the evidence begins:
    registration, or the feed's oldest item) to the first post, between posts and from the
    last post to the end, so an account silent all period shows the whole period. With no
    evidence at all (``registered_at`` None) there is no longest silence.
    """
    inside = sorted(t for t in times if start <= t < end)
    if registered_at is None:
        return len(inside), None
    opened = max(start, registered_at)
    if opened >= end:
        return len(inside), None
    marks = [opened, *(t for t in inside if t >= opened), end]
    longest = max((b - a) / DAY for a, b in itertools.pairwise(marks))
    return len(inside), round(longest, 1)


def weeks_of(start: date, end: date) -> list[date]:
    first = start - timedelta(days=start.weekday())
    return [first + timedelta(weeks=i) for i in range((end - first).days // 7 + 1)]


def _reading(
    account: AccountInput, *, as_of: datetime, thresholds: ActivityThresholds
) -> FeedReading:
    if account.reading is not None:
        return account.reading
    if not account.polled:
        return FeedReading(Fault.NEVER_READ)
    broken = is_feed_broken(
        account.poll_health,
        registered_at=min(account.registered_at, as_of),
        now=as_of,
        thresholds=thresholds,
    )
    return FeedReading(Fault.BROKEN) if broken else READABLE


def fault_params(reading: FeedReading) -> dict[str, object]:
    """A fault as reason parameters: the reader's language is chosen when it is shown."""
    return {"fault": reading.fault.value if reading.fault else "", "status": reading.status}


def lack_params(silence: Silence | None) -> dict[str, object]:
    lack = silence.lack if silence is not None else None
    oldest = silence.oldest_seen if silence is not None else None
    return {"lack": lack.value if lack else Lack.NO_EVIDENCE.value, "date": oldest}


def fault_text(reading: FeedReading, tr: Callable[[str], str] = lambda s: s) -> str:
    """The fault in the reader's language, with its HTTP status."""
    if reading.fault is None:
        return ""
    return tr(FAULT_LABELS[reading.fault]).format(status=reading.status or "?")


def _line(
    account: AccountInput,
    found: Mapping[str, int],
    *,
    start: datetime,
    as_of: datetime,
    rules: ScoringRules,
    thresholds: ActivityThresholds,
) -> AccountLine:
    """One account's line: the feed's reading first, then the evidence, then the score."""
    reading = _reading(account, as_of=as_of, thresholds=thresholds)
    registered = account.registered_at if account.registered_known else None
    evidence_from = covered_from(oldest_seen=account.oldest_seen, registered_at=registered)
    if evidence_from is None and account.opened_at is not None:
        evidence_from = account.opened_at
    posts, gap = period_figures(
        account.post_times, start=start, end=as_of, registered_at=evidence_from
    )
    if not reading.readable:
        facts = AccountFacts(DormancyState.UNKNOWN, False, True, found, account.reposts_missed)
        return AccountLine(
            account,
            posts,
            None,
            None,
            DormancyState.UNKNOWN,
            False,
            True,
            dict(found),
            score_account(facts, rules),
            UNASSESSABLE,
            reading,
            None,
            False,
            None,
        )
    silence = silence_as_of(
        account.post_times,
        as_of=as_of,
        oldest_seen=account.oldest_seen,
        registered_at=registered,
        opened_at=account.opened_at,
    )
    activity = compute_activity(
        account.post_times,
        registered_at=min(registered or as_of, as_of),
        planned_per_week=account.planned_per_week,
        now=as_of,
        poll_health=PollHealth(as_of),
        thresholds=thresholds,
        history_start=account.oldest_seen,
    )
    if silence.days is None:
        state = DormancyState.UNKNOWN
        below = False
    else:
        state = dormancy_state(silence.days, thresholds=thresholds)
        below = activity.below_plan
    score = score_account(AccountFacts(state, below, False, found, account.reposts_missed), rules)
    if silence.days is None and not score.vetoes:
        outcome = UNASSESSABLE
    else:
        outcome = PASS if score.passed else FAIL
    partial = evidence_from if evidence_from is not None and evidence_from > start else None
    return AccountLine(
        account=account,
        posts=posts,
        longest_gap_days=gap,
        days_dormant=silence.days,
        state=state,
        below_plan=below,
        feed_broken=False,
        problems=dict(found),
        score=score,
        outcome=outcome,
        reading=reading,
        silence=silence,
        plan_judged=activity.plan_judged and silence.days is not None,
        covered_from=partial,
    )


def _problems(
    findings: Sequence[FindingInput], by_id: Mapping[int, AccountInput]
) -> list[ProblemLine]:
    """Distinct problems per account, first occurrence first, every text masked."""
    first: dict[tuple[int, str], FindingInput] = {}
    count: Counter[tuple[int, str]] = Counter()
    order = sorted(findings, key=lambda f: (f.found_at, f.account_id, _RANK.get(f.severity, 3)))
    for f in order:
        if f.account_id not in by_id:
            continue
        key = (f.account_id, f.problem)
        first.setdefault(key, f)
        count[key] += 1
    return [
        ProblemLine(
            account=by_id[f.account_id],
            category=f.category,
            severity=f.severity,
            text=mask_pii(f.text),
            excerpt=mask_pii(f.excerpt),
            title=mask_pii(f.title),
            link=f.link,
            published_at=f.published_at,
            found_at=f.found_at,
            occurrences=count[key],
            status=f.status,
        )
        for key, f in first.items()
    ]


def _masked(account: AccountInput) -> AccountInput:
    return replace(account, name=mask_pii(account.name), unit=mask_pii(account.unit))


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
    """The one model of the period: every total, sheet, chart and message derives from it.

    ``findings`` are those of the period's posts. Problems are counted once per account and
    defect; an account whose feed could not be read is 无法评估 and never scored.
    """
    thresholds = thresholds or ActivityThresholds()
    start, end = period.bounds(tz)
    as_of = min(end, now)
    accounts = [_masked(a) for a in accounts]
    by_id = {a.id: a for a in accounts}
    problems = _problems(findings, by_id)
    found: dict[int, Counter[str]] = {}
    for p in problems:
        found.setdefault(p.account.id, Counter())[p.category] += 1
    weeks = weeks_of(period.start, period.end)
    weekly: dict[str, Counter[date]] = {}
    lines: list[AccountLine] = []
    for account in accounts:
        lines.append(
            _line(
                account,
                found.get(account.id, Counter()),
                start=start,
                as_of=as_of,
                rules=rules,
                thresholds=thresholds,
            )
        )
        counts = weekly.setdefault(account.unit, Counter())
        for t in account.post_times:
            if start <= t < as_of:
                local = t.astimezone(tz).date()
                counts[local - timedelta(days=local.weekday())] += 1
    lines.sort(key=lambda line: (line.account.unit, line.account.id))
    ranks = {
        r.unit: r
        for r in rank_units((line.account.unit, line.score) for line in lines if line.scored)
    }
    units = []
    for unit in sorted({line.account.unit for line in lines}):
        mine = [line for line in lines if line.account.unit == unit]
        tally = Counter(line.outcome for line in mine)
        rank = ranks.get(unit) or UnitRank(unit, 0, 0.0, 0, len(ranks) + 1)
        units.append(
            UnitLine(
                unit=unit,
                accounts=len(mine),
                posts=sum(line.posts for line in mine),
                problems=sum(sum(line.problems.values()) for line in mine),
                dormant=sum(1 for line in mine if line.state.severity >= _DORMANT),
                rank=rank,
                passed=tally[PASS],
                failed=tally[FAIL],
                unassessable=tally[UNASSESSABLE],
            )
        )
    units.sort(key=lambda u: (u.rank.rank, u.unit))
    tally = Counter(line.outcome for line in lines)
    partial = tuple(
        w
        for w in dict.fromkeys(weeks[:1] + weeks[-1:])
        if w < period.start or period.end < w + timedelta(days=6)
    )
    return Report(
        period=period,
        scope=scope,
        generated_at=now,
        as_of=as_of,
        accounts=tuple(lines),
        units=tuple(units),
        findings=tuple(problems),
        weekly={unit: [(w, counts.get(w, 0)) for w in weeks] for unit, counts in weekly.items()},
        states=Counter(line.state for line in lines),
        categories=Counter(p.category for p in problems),
        show_cases=any(a.cases is not None for a in accounts),
        show_reviews=any(a.reviews is not None for a in accounts),
        passed=tally[PASS],
        failed=tally[FAIL],
        unassessable=tally[UNASSESSABLE],
        partial_weeks=partial,
    )
