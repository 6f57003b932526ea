"""Account scores and unit rankings from a rule file (评分规则).

Pure: the caller passes what monitoring established about an account (its activity state at the
end of the period, plan compliance, feed health, the distinct problems found); the rules come
from ``governance/data/scoring.toml`` or a copy the office edits. Two national rules shape the
inputs: scores never use likes, reposts or reading counts (the facts have no such field), and a
broken feed is a monitoring fault, not a defect of the account.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.activity import DormancyState
from governance.errors import ConfigurationError
from governance.i18n import N_
from governance.quality import CATEGORIES, SEVERITIES, SEVERITY
from governance.vocabulary import Severity

#: severity by category name (the rules file and the facts name categories by their value)
_SEVERITY_OF: dict[str, Severity] = {c.value: s for c, s in SEVERITY.items()}

DEFAULT_RULES_FILE = Path(__file__).parent / "data" / "scoring.toml"

#: Reasons are msgids: the report translates them for its reader.
REASON_WARNING = N_("超过1周未更新")
REASON_DORMANT = N_("超过2周未更新（不更新）")
REASON_CLOSURE = N_("长期未更新（建议关停）")
REASON_BELOW_PLAN = N_("低于承诺的更新频率")
REASON_FEED_BROKEN = N_("监测源异常")
REASON_FINDINGS = N_("{category} {n} 处")
REASON_VETO_DORMANT = N_("单项否决：检查前2周内未更新")
REASON_VETO_FINDING = N_("单项否决：{category}")
REASON_REPOST_MISSED = N_("逾期未完成转载任务 {n} 项")


@dataclass(frozen=True, slots=True)
class ScoringRules:
    full: int = 100
    pass_mark: int = 60
    warning: int = 5
    dormant: int = 40
    closure_candidate: int = 60
    dormant_is_veto: bool = True
    below_plan: int = 10
    feed_broken: int = 0
    per_severity: Mapping[str, int] = field(
        default_factory=lambda: {"veto": 40, "serious": 10, "general": 2}
    )
    per_category: Mapping[str, int] = field(default_factory=dict)
    cap: Mapping[str, int] = field(default_factory=dict)
    sample_ratio: float = 0.3
    sample_minimum: int = 1
    update_days: int = 14
    repost_missed: int = 0
    """Points per repost task not done by its deadline; 0 (the default) leaves it out."""

    def points_for(self, category: str) -> int:
        if category in self.per_category:
            return self.per_category[category]
        return self.per_severity.get(_SEVERITY_OF.get(category, Severity.GENERAL), 0)


def load_rules(path: Path | None = None) -> ScoringRules:
    """Rules from a TOML file (default: the shipped one); a bad file names what is wrong."""
    source = path or DEFAULT_RULES_FILE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
        return rules_from(data)
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"评分规则文件 {source} 无法使用：{exc}") from exc


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} 应为非负整数")
    return value


def rules_from(data: Mapping[str, Any]) -> ScoringRules:
    """Validate a parsed rule file; unknown categories or severities are errors, not ignored."""
    activity = data.get("activity", {})
    findings = data.get("findings", {})
    inspection = data.get("inspection", {})
    reposts = data.get("reposts", {})
    severity, category, cap = (
        {k: _int(v, f"findings.{part}.{k}") for k, v in findings.get(part, {}).items()}
        for part in ("severity", "category", "cap")
    )
    for name in severity:
        if name not in SEVERITIES:
            raise ValueError(f"未知的严重程度 {name}")
    for name in [*category, *cap]:
        if name not in CATEGORIES:
            raise ValueError(f"未知的问题类别 {name}")
    ratio = float(inspection.get("ratio", 0.3))
    if not 0 < ratio <= 1:
        raise ValueError("inspection.ratio 应在 0 到 1 之间")
    defaults = ScoringRules()
    rules = ScoringRules(
        full=_int(data.get("full", defaults.full), "full"),
        pass_mark=_int(data.get("pass_mark", defaults.pass_mark), "pass_mark"),
        warning=_int(activity.get("warning", defaults.warning), "activity.warning"),
        dormant=_int(activity.get("dormant", defaults.dormant), "activity.dormant"),
        closure_candidate=_int(
            activity.get("closure_candidate", defaults.closure_candidate),
            "activity.closure_candidate",
        ),
        dormant_is_veto=bool(activity.get("dormant_is_veto", True)),
        below_plan=_int(activity.get("below_plan", defaults.below_plan), "activity.below_plan"),
        feed_broken=_int(activity.get("feed_broken", 0), "activity.feed_broken"),
        per_severity={**defaults.per_severity, **severity},
        per_category=category,
        cap=cap,
        sample_ratio=ratio,
        sample_minimum=_int(inspection.get("minimum", 1), "inspection.minimum"),
        update_days=_int(inspection.get("update_days", 14), "inspection.update_days"),
        repost_missed=_int(reposts.get("missed", 0), "reposts.missed"),
    )
    if rules.pass_mark > rules.full or rules.update_days < 1:
        raise ValueError("pass_mark 不能高于 full，update_days 至少为 1")
    return rules


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What monitoring established about one account over a period (never engagement)."""

    state: DormancyState
    below_plan: bool
    feed_broken: bool
    problems: Mapping[str, int]
    """Distinct problems found in the period, by category."""
    reposts_missed: int = 0
    """Repost tasks whose deadline fell in the period and were not done (never reads or likes)."""


@dataclass(frozen=True, slots=True)
class Deduction:
    reason: str  # msgid
    points: int
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Score:
    points: int
    passed: bool
    deductions: tuple[Deduction, ...]
    vetoes: tuple[Deduction, ...]
    """Single-item vetoes (points 0): any one fails the account."""


def score_account(facts: AccountFacts, rules: ScoringRules) -> Score:
    """Points left after every deduction, and whether the account passes."""
    taken: list[Deduction] = []
    vetoes: list[Deduction] = []
    state_rules = {
        DormancyState.WARNING: (REASON_WARNING, rules.warning),
        DormancyState.DORMANT: (REASON_DORMANT, rules.dormant),
        DormancyState.CLOSURE_CANDIDATE: (REASON_CLOSURE, rules.closure_candidate),
    }
    if facts.state in state_rules:
        reason, points = state_rules[facts.state]
        taken.append(Deduction(reason, points))
        if rules.dormant_is_veto and facts.state.severity >= DormancyState.DORMANT.severity:
            vetoes.append(Deduction(REASON_VETO_DORMANT, 0))
    if facts.below_plan:
        taken.append(Deduction(REASON_BELOW_PLAN, rules.below_plan))
    if facts.feed_broken and rules.feed_broken:
        taken.append(Deduction(REASON_FEED_BROKEN, rules.feed_broken))
    order = {c.value: i for i, c in enumerate(CATEGORIES)}
    for category, n in sorted(facts.problems.items(), key=lambda kv: order.get(kv[0], 99)):
        if n <= 0:
            continue
        points = rules.points_for(category) * n
        if category in rules.cap:
            points = min(points, rules.cap[category])
        taken.append(Deduction(REASON_FINDINGS, points, {"category": category, "n": n}))
        if _SEVERITY_OF.get(category) is Severity.VETO:
            vetoes.append(Deduction(REASON_VETO_FINDING, 0, {"category": category}))
    if rules.repost_missed and facts.reposts_missed > 0:
        taken.append(
            Deduction(
                REASON_REPOST_MISSED,
                rules.repost_missed * facts.reposts_missed,
                {"n": facts.reposts_missed},
            )
        )
    points = max(rules.full - sum(d.points for d in taken), 0)
    passed = not vetoes and points >= rules.pass_mark
    return Score(points, passed, tuple(d for d in taken if d.points), tuple(vetoes))


@dataclass(frozen=True, slots=True)
class UnitRank:
    unit: str
    accounts: int
    average: float
    failed: int
    rank: int


def rank_units(scores: Iterable[tuple[str, Score]]) -> list[UnitRank]:
    """Units by average score (higher first), fewer failures breaking ties; equal units share
    a rank (1, 2, 2, 4)."""
    by_unit: dict[str, list[Score]] = {}
    for unit, score in scores:
        by_unit.setdefault(unit, []).append(score)
    rows = [
        (
            unit,
            len(items),
            round(sum(s.points for s in items) / len(items), 1),
            sum(1 for s in items if not s.passed),
        )
        for unit, items in by_unit.items()
    ]
    rows.sort(key=lambda r: (-r[2], r[3], r[0]))
    ranked: list[UnitRank] = []
    for i, (unit, n, average, failed) in enumerate(rows):
        same = ranked and (ranked[-1].average, ranked[-1].failed) == (average, failed)
        ranked.append(UnitRank(unit, n, average, failed, ranked[-1].rank if same else i + 1))
    return ranked
