"""Government website rules (政府网站): availability, home page and column updates, the score.

Pure: the caller passes what monitoring established (probe results per local day, each watched
column's newest dated item, the distinct problems found); the thresholds come from
``governance/data/websites.toml`` or a copy the office edits. Every veto names its indicator
(国办秘函〔2019〕19号, 政府网站与政务新媒体检查指标). A rule that monitoring has not measured well
enough (too few visits, a column never read) is 无法评估, never a pass: the inspection must not
certify what nobody looked at. Items without a publication date never count as an update (the
indicator's own note: 未注明信息发布时间的视为不更新).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import Any

from governance.errors import ConfigurationError, InvalidInput
from governance.i18n import N_
from governance.scoring import REASON_FINDINGS, Deduction, ScoringRules
from governance.vocabulary import Category, Severity

DEFAULT_WEBSITE_RULES_FILE = Path(__file__).parent / "data" / "websites.toml"
DAY = timedelta(days=1)


class ColumnClass(StrEnum):
    """A watched page's class; the stored values are a contract."""

    HOME = "home"  # the home page itself, one per website
    NEWS = "news"  # 动态要闻
    NOTICE = "notice"  # 通知公告
    POLICY = "policy"  # 政策文件
    PERSONNEL = "personnel"  # 人事规划
    OTHER = "other"
    INTERACTION = "interaction"  # 互动交流


COLUMN_CLASS_LABELS: dict[ColumnClass, str] = {
    ColumnClass.HOME: N_("首页"),
    ColumnClass.NEWS: N_("动态要闻"),
    ColumnClass.NOTICE: N_("通知公告"),
    ColumnClass.POLICY: N_("政策文件"),
    ColumnClass.PERSONNEL: N_("人事规划"),
    ColumnClass.OTHER: N_("其他"),
    ColumnClass.INTERACTION: N_("互动交流"),
}

#: Classes a person may give a column (the home page is created with the website).
COLUMN_CLASSES = tuple(c for c in ColumnClass if c is not ColumnClass.HOME)
_CLASS_ALIASES = {
    "动态": ColumnClass.NEWS,
    "要闻": ColumnClass.NEWS,
    "通知": ColumnClass.NOTICE,
    "公告": ColumnClass.NOTICE,
    "政策": ColumnClass.POLICY,
    "人事": ColumnClass.PERSONNEL,
    "互动": ColumnClass.INTERACTION,
    "其它": ColumnClass.OTHER,
}


def parse_column_class(text: str) -> ColumnClass:
    """A column class from its value, its Chinese label or a short word (chat and ledger)."""
    raw = (text or "").strip()
    for kind in COLUMN_CLASSES:
        if raw in (kind.value, COLUMN_CLASS_LABELS[kind]):
            return kind
    if raw in _CLASS_ALIASES:
        return _CLASS_ALIASES[raw]
    raise InvalidInput(N_("栏目类别应为：动态要闻、通知公告、政策文件、人事规划、互动交流或其他。"))


class WebsiteRule(StrEnum):
    AVAILABILITY = "availability"  # 站点无法访问
    HOME_UPDATE = "home_update"  # 首页不更新
    COLUMN_UPDATE = "column_update"  # 栏目不更新
    SERIOUS_ERROR = "serious_error"  # 严重错误


class RuleOutcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"


#: Each rule's indicator, as the inspection names it (cited in every finding and report row).
INDICATORS: dict[WebsiteRule, str] = {
    WebsiteRule.AVAILABILITY: N_("单项否决·站点无法访问"),
    WebsiteRule.HOME_UPDATE: N_("单项否决·首页不更新"),
    WebsiteRule.COLUMN_UPDATE: N_("单项否决·栏目不更新"),
    WebsiteRule.SERIOUS_ERROR: N_("单项否决·严重错误"),
}

# Reasons are msgids with named parameters; the reader's language is applied when shown.
R_AVAIL_FAIL = N_("近 {days} 天访问 {visits} 次，{failures} 次超过 {timeout} 秒仍打不开（{ratio}）")
R_AVAIL_OK = N_("近 {days} 天访问 {visits} 次，打不开 {failures} 次（{ratio}）")
R_AVAIL_LACK = N_("监测不足：近 {days} 天中只有 {full} 天每天访问达到 {per_day} 次")
R_HOME_FAIL = N_("{page}已 {days} 天无信息更新（最近：{last}）")
R_HOME_NEVER = N_("{page}没有注明日期的信息")
R_HOME_OK = N_("{page}最近更新：{last}")
R_HOME_UNREAD = N_("首页尚未成功读取")
R_HOME_PORTAL_EMPTY = N_("首页仅为导航入口，尚未登记可读取的二级栏目")
R_COL_STALE = N_("动态要闻类2周内、通知公告/政策文件类一级栏目6个月内未更新 {n} 个（≥{limit}）")
R_COL_LONG = N_("应更新但长期未更新的栏目 {n} 个（≥{limit}）")
R_COL_EMPTY = N_("空白栏目 {n} 个（≥{limit}）")
R_COL_OK = N_("未更新 {stale} 个、长期未更新 {long} 个、空白 {empty} 个")
R_COL_UNREAD = N_("{n} 个栏目尚未成功读取，无法判断是否达到否决线")
R_SERIOUS = N_("存在单项否决问题：{category} {n} 处")
R_SERIOUS_OK = N_("未发现单项否决内容问题")
D_HOME_FAILURES = N_("首页可用性：打不开 {ratio}")
D_DEAD_LINKS = N_("链接可用性：首页不能正常访问的链接 {n} 个")
D_STALE_COLUMNS = N_("栏目更新：未更新栏目 {n} 个")
PAGE_HOME = N_("首页")
PAGE_SECOND = N_("二级页面")


@dataclass(frozen=True, slots=True)
class WebsiteRules:
    full: int = 100
    pass_mark: int = 60
    days: int = 7
    visits_per_day: int = 20
    timeout_seconds: float = 15.0
    failure_ratio: float = 0.05
    outage_after: int = 2
    home_stale_days: int = 14
    news_days: int = 14
    notice_days: int = 183
    stale_veto: int = 5
    long_stale_veto: int = 10
    empty_veto: int = 5
    long_stale_days: Mapping[str, int] = field(
        default_factory=lambda: {"news": 60, "notice": 183, "policy": 183, "personnel": 365}
    )
    home_failure_percent: int = 1
    home_failure_cap: int = 5
    dead_link: int = 1
    dead_link_cap: int = 5
    stale_column: int = 2
    stale_column_cap: int = 20


def load_website_rules(path: Path | None = None) -> WebsiteRules:
    """Rules from a TOML file (default: the shipped one); a bad file names what is wrong."""
    source = path or DEFAULT_WEBSITE_RULES_FILE
    try:
        return website_rules_from(tomllib.loads(source.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"网站检查规则文件 {source} 无法使用：{exc}") from exc


def _num(value: Any, name: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} 应为非负数")
    return value


def website_rules_from(data: Mapping[str, Any]) -> WebsiteRules:
    d = WebsiteRules()
    avail, home = data.get("availability", {}), data.get("home", {})
    cols, ded = data.get("columns", {}), data.get("deductions", {})

    def get(section: Mapping[str, Any], key: str, default: Any, name: str) -> Any:
        return _num(section.get(key, default), name)

    long_days = dict(d.long_stale_days)
    for key, value in cols.get("long_stale_days", {}).items():
        if key not in {c.value for c in COLUMN_CLASSES}:
            raise ValueError(f"未知的栏目类别 {key}")
        long_days[key] = int(_num(value, f"columns.long_stale_days.{key}"))
    rules = WebsiteRules(
        full=int(get(data, "full", d.full, "full")),
        pass_mark=int(get(data, "pass_mark", d.pass_mark, "pass_mark")),
        days=int(get(avail, "days", d.days, "availability.days")),
        visits_per_day=int(get(avail, "visits_per_day", d.visits_per_day, "visits_per_day")),
        timeout_seconds=float(get(avail, "timeout_seconds", d.timeout_seconds, "timeout")),
        failure_ratio=float(get(avail, "failure_ratio", d.failure_ratio, "failure_ratio")),
        outage_after=int(get(avail, "outage_after", d.outage_after, "outage_after")),
        home_stale_days=int(get(home, "stale_days", d.home_stale_days, "home.stale_days")),
        news_days=int(get(cols, "news_days", d.news_days, "columns.news_days")),
        notice_days=int(get(cols, "notice_days", d.notice_days, "columns.notice_days")),
        stale_veto=int(get(cols, "stale_veto", d.stale_veto, "columns.stale_veto")),
        long_stale_veto=int(get(cols, "long_stale_veto", d.long_stale_veto, "long_stale_veto")),
        empty_veto=int(get(cols, "empty_veto", d.empty_veto, "columns.empty_veto")),
        long_stale_days=long_days,
        **{
            name: int(get(ded, name, getattr(d, name), f"deductions.{name}"))
            for name in (
                "home_failure_percent",
                "home_failure_cap",
                "dead_link",
                "dead_link_cap",
                "stale_column",
                "stale_column_cap",
            )
        },
    )
    if rules.days < 1 or rules.visits_per_day < 1 or not 0 < rules.failure_ratio <= 1:
        raise ValueError("availability 的天数、次数须至少为 1，failure_ratio 须在 0 到 1 之间")
    if rules.pass_mark > rules.full or rules.outage_after < 1:
        raise ValueError("pass_mark 不能高于 full，outage_after 至少为 1")
    return rules


# --- the probe's rhythm ---------------------------------------------------------------------


def next_probe_at(now: datetime, *, per_day: int, jitter: float, tz: tzinfo = UTC) -> datetime:
    """A random moment in the next of ``per_day`` equal slots of the local day (``tz``).

    One visit per slot at a random offset: the visits are irregular (the indicator's 间隔性访问)
    yet every full local day (the days the visits are counted in) holds exactly ``per_day`` of
    them, so the daily minimum is never missed by chance. ``jitter`` in [0, 1) comes from the
    caller's random source.
    """
    if per_day < 1:
        raise ValueError("per_day must be at least 1")
    slot = 86400 / per_day
    local = now.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    index = math.floor((local - midnight).total_seconds() / slot)
    start = midnight + timedelta(seconds=(index + 1) * slot)
    return (start + timedelta(seconds=slot * min(max(jitter, 0.0), 0.999))).astimezone(UTC)


# --- facts ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeDay:
    """One local day of visits to the home page."""

    day: date
    visits: int
    failures: int


@dataclass(frozen=True, slots=True)
class ColumnFacts:
    """One watched page as monitoring knows it."""

    id: int
    name: str
    kind: ColumnClass
    first_level: bool
    read: bool
    """At least one successful read: without it nothing is known about the column."""
    items: int
    """Items ever seen (0 after a successful read: an empty column, 空白栏目)."""
    last_update: datetime | None
    """The newest dated item; undated items never count as an update."""
    portal: bool = False
    """(Home page only) the page is a navigation portal without items of its own."""


@dataclass(frozen=True, slots=True)
class WebsiteFacts:
    home: ColumnFacts | None
    columns: Sequence[ColumnFacts]
    probe_days: Sequence[ProbeDay]
    """Complete local days before the check, newest last (only the last ``days`` are used)."""
    dead_links: int = 0
    problems: Mapping[str, int] = field(default_factory=dict)
    """Distinct open problems by category (the content checker's findings)."""


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: WebsiteRule
    outcome: RuleOutcome
    reason: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def indicator(self) -> str:
        return INDICATORS[self.rule]


@dataclass(frozen=True, slots=True)
class WebsiteVerdict:
    results: tuple[RuleResult, ...]
    deductions: tuple[Deduction, ...]
    points: int
    outcome: str  # governance.reporting's PASS / FAIL / UNASSESSABLE
    stale_columns: tuple[int, ...] = ()
    empty_columns: tuple[int, ...] = ()

    @property
    def vetoes(self) -> tuple[RuleResult, ...]:
        return tuple(r for r in self.results if r.outcome is RuleOutcome.FAIL)


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


def availability(days: Sequence[ProbeDay], rules: WebsiteRules) -> tuple[RuleResult, float | None]:
    """站点无法访问 over the last ``rules.days`` complete days; the failure ratio when measured."""
    window = list(days)[-rules.days :]
    full = [d for d in window if d.visits >= rules.visits_per_day]
    visits = sum(d.visits for d in window)
    failures = sum(d.failures for d in window)
    ratio = failures / visits if visits else None
    base = {"days": rules.days, "visits": visits, "failures": failures}
    if len(full) < rules.days or ratio is None:
        lack = {"days": rules.days, "full": len(full), "per_day": rules.visits_per_day}
        return RuleResult(WebsiteRule.AVAILABILITY, RuleOutcome.UNKNOWN, R_AVAIL_LACK, lack), ratio
    shown = {**base, "ratio": _percent(ratio), "timeout": int(rules.timeout_seconds)}
    if ratio >= rules.failure_ratio:
        return RuleResult(WebsiteRule.AVAILABILITY, RuleOutcome.FAIL, R_AVAIL_FAIL, shown), ratio
    return RuleResult(WebsiteRule.AVAILABILITY, RuleOutcome.PASS, R_AVAIL_OK, shown), ratio


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "—"


def home_update(facts: WebsiteFacts, *, now: datetime, rules: WebsiteRules) -> RuleResult:
    """首页不更新: the home page's newest dated item; a portal: all second-level pages'."""
    home = facts.home
    rule = WebsiteRule.HOME_UPDATE
    if home is None or not home.read:
        return RuleResult(rule, RuleOutcome.UNKNOWN, R_HOME_UNREAD)
    if home.portal:
        pages = [c for c in facts.columns if c.read]
        if not pages:
            return RuleResult(rule, RuleOutcome.UNKNOWN, R_HOME_PORTAL_EMPTY)
        last = max((c.last_update for c in pages if c.last_update), default=None)
        page = PAGE_SECOND
    else:
        last, page = home.last_update, PAGE_HOME
    if last is None:
        return RuleResult(rule, RuleOutcome.FAIL, R_HOME_NEVER, {"page": page})
    days = (now - last) // DAY
    params = {"page": page, "days": days, "last": _day(last)}
    if now - last >= rules.home_stale_days * DAY:
        return RuleResult(rule, RuleOutcome.FAIL, R_HOME_FAIL, params)
    return RuleResult(rule, RuleOutcome.PASS, R_HOME_OK, params)


@dataclass(frozen=True, slots=True)
class ColumnCounts:
    stale: tuple[int, ...]
    long_stale: tuple[int, ...]
    empty: tuple[int, ...]
    unread_stale: int
    unread_long: int
    unread_empty: int


def _older(last: datetime | None, now: datetime, days: int) -> bool:
    return last is None or now - last >= days * DAY


def count_columns(
    columns: Sequence[ColumnFacts], *, now: datetime, rules: WebsiteRules
) -> ColumnCounts:
    stale: list[int] = []
    long_stale: list[int] = []
    empty: list[int] = []
    unread = {"stale": 0, "long": 0, "empty": 0}
    for c in columns:
        if c.kind is ColumnClass.HOME:
            continue
        counted_stale = c.kind is ColumnClass.NEWS or (
            c.first_level and c.kind in (ColumnClass.NOTICE, ColumnClass.POLICY)
        )
        long_days = rules.long_stale_days.get(c.kind.value)
        if not c.read:
            unread["stale"] += counted_stale
            unread["long"] += long_days is not None
            unread["empty"] += 1
            continue
        if c.items == 0:
            empty.append(c.id)
        limit = rules.news_days if c.kind is ColumnClass.NEWS else rules.notice_days
        if counted_stale and _older(c.last_update, now, limit):
            stale.append(c.id)
        if long_days is not None and _older(c.last_update, now, long_days):
            long_stale.append(c.id)
    return ColumnCounts(
        tuple(stale),
        tuple(long_stale),
        tuple(empty),
        unread["stale"],
        unread["long"],
        unread["empty"],
    )


def column_update(counts: ColumnCounts, rules: WebsiteRules) -> RuleResult:
    """栏目不更新: any count at its limit fails; unread columns that could reach one: unknown."""
    rule = WebsiteRule.COLUMN_UPDATE
    checks = (
        (len(counts.stale), counts.unread_stale, rules.stale_veto, R_COL_STALE),
        (len(counts.long_stale), counts.unread_long, rules.long_stale_veto, R_COL_LONG),
        (len(counts.empty), counts.unread_empty, rules.empty_veto, R_COL_EMPTY),
    )
    for n, _unread, limit, reason in checks:
        if n >= limit:
            return RuleResult(rule, RuleOutcome.FAIL, reason, {"n": n, "limit": limit})
    for n, unread, limit, _reason in checks:
        if unread and n + unread >= limit:
            total = counts.unread_empty
            return RuleResult(rule, RuleOutcome.UNKNOWN, R_COL_UNREAD, {"n": total})
    params = {
        "stale": len(counts.stale),
        "long": len(counts.long_stale),
        "empty": len(counts.empty),
    }
    return RuleResult(rule, RuleOutcome.PASS, R_COL_OK, params)


def _is_veto(category: str) -> bool:
    try:
        return Category(category).severity is Severity.VETO
    except ValueError:
        return False


def serious_errors(problems: Mapping[str, int]) -> RuleResult:
    vetoes = {c: n for c, n in problems.items() if n > 0 and _is_veto(c)}
    if vetoes:
        category, n = sorted(vetoes.items())[0]
        return RuleResult(
            WebsiteRule.SERIOUS_ERROR, RuleOutcome.FAIL, R_SERIOUS, {"category": category, "n": n}
        )
    return RuleResult(WebsiteRule.SERIOUS_ERROR, RuleOutcome.PASS, R_SERIOUS_OK)


def judge_website(
    facts: WebsiteFacts,
    *,
    now: datetime,
    rules: WebsiteRules,
    scoring: ScoringRules | None = None,
) -> WebsiteVerdict:
    """Every veto rule, the 100-point deductions, and 合格/不合格/无法评估."""
    scoring = scoring or ScoringRules()
    avail, ratio = availability(facts.probe_days, rules)
    counts = count_columns(facts.columns, now=now, rules=rules)
    results = (
        avail,
        home_update(facts, now=now, rules=rules),
        column_update(counts, rules),
        serious_errors(facts.problems),
    )
    taken: list[Deduction] = []
    if ratio:
        points = min(math.floor(ratio * 100) * rules.home_failure_percent, rules.home_failure_cap)
        taken.append(Deduction(D_HOME_FAILURES, points, {"ratio": _percent(ratio)}))
    if facts.dead_links:
        points = min(facts.dead_links * rules.dead_link, rules.dead_link_cap)
        taken.append(Deduction(D_DEAD_LINKS, points, {"n": facts.dead_links}))
    stale = set(counts.stale) | set(counts.long_stale)
    if stale:
        points = min(len(stale) * rules.stale_column, rules.stale_column_cap)
        taken.append(Deduction(D_STALE_COLUMNS, points, {"n": len(stale)}))
    for category, n in sorted(facts.problems.items()):
        if n <= 0 or (category == "dead_link" and facts.dead_links):
            continue
        points = scoring.points_for(category) * n
        if category in scoring.cap:
            points = min(points, scoring.cap[category])
        taken.append(Deduction(REASON_FINDINGS, points, {"category": category, "n": n}))
    points = max(rules.full - sum(d.points for d in taken), 0)
    outcomes = {r.outcome for r in results}
    if RuleOutcome.FAIL in outcomes or points < rules.pass_mark:
        outcome = "fail"
    elif RuleOutcome.UNKNOWN in outcomes:
        outcome = "unassessable"
    else:
        outcome = "pass"
    return WebsiteVerdict(
        results=results,
        deductions=tuple(d for d in taken if d.points),
        points=points,
        outcome=outcome,
        stale_columns=tuple(sorted(stale)),
        empty_columns=counts.empty,
    )


@dataclass(frozen=True, slots=True)
class WebsiteLine:
    """One website in a report: who answers for it and its verdict as of the report."""

    id: int
    name: str
    unit: str
    home_url: str
    columns: int
    verdict: WebsiteVerdict
