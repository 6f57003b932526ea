"""The website rules as pure functions: each veto at its threshold, honest 无法评估."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from governance.errors import ConfigurationError
from governance.scoring import load_rules
from governance.websites import (
    ColumnClass,
    ColumnFacts,
    ProbeDay,
    RuleOutcome,
    WebsiteFacts,
    WebsiteRule,
    WebsiteRules,
    availability,
    judge_website,
    load_website_rules,
    next_probe_at,
    website_rules_from,
)

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
RULES = WebsiteRules()


def col(
    i: int,
    kind: ColumnClass,
    days_ago: float | None,
    *,
    first: bool = True,
    items: int = 5,
    read: bool = True,
) -> ColumnFacts:
    last = NOW - timedelta(days=days_ago) if days_ago is not None else None
    return ColumnFacts(i, f"栏目{i}", kind, first, read, items, last)


def days(visits: int, failures: list[int]) -> list[ProbeDay]:
    start = date(2026, 11, 24)
    return [ProbeDay(start + timedelta(days=i), visits, f) for i, f in enumerate(failures)]


HOME = col(0, ColumnClass.HOME, 1)


def facts(columns=(), probe=None, home=HOME, problems=None) -> WebsiteFacts:
    return WebsiteFacts(
        home=home,
        columns=list(columns),
        probe_days=probe if probe is not None else days(24, [0] * 7),
        problems=problems or {},
    )


def outcome(verdict, rule: WebsiteRule) -> RuleOutcome:
    return next(r.outcome for r in verdict.results if r.rule is rule)


def test_shipped_rule_file_loads_with_the_indicator_figures() -> None:
    rules = load_website_rules()
    assert (rules.days, rules.visits_per_day, rules.timeout_seconds, rules.failure_ratio) == (
        7,
        20,
        15.0,
        0.05,
    )
    assert (rules.home_stale_days, rules.news_days, rules.notice_days) == (14, 14, 183)
    assert (rules.stale_veto, rules.long_stale_veto, rules.empty_veto) == (5, 10, 5)


def test_a_bad_rule_file_names_the_problem(tmp_path) -> None:
    bad = tmp_path / "w.toml"
    bad.write_text("[availability]\nfailure_ratio = 3\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="failure_ratio"):
        load_website_rules(bad)
    with pytest.raises(ValueError, match="未知的栏目类别"):
        website_rules_from({"columns": {"long_stale_days": {"blog": 3}}})


def test_availability_fails_at_five_percent_and_not_below() -> None:
    # 7 days x 20 visits = 140 visits; 7 failures = 5.0 % (veto), 6 = 4.3 % (pass)
    assert availability(days(20, [1] * 7), RULES)[0].outcome is RuleOutcome.FAIL
    assert availability(days(20, [1] * 6 + [0]), RULES)[0].outcome is RuleOutcome.PASS


def test_availability_is_unknown_with_fewer_than_twenty_visits_a_day() -> None:
    result, _ratio = availability(days(19, [19] * 7), RULES)
    assert result.outcome is RuleOutcome.UNKNOWN
    assert availability(days(24, [0] * 6), RULES)[0].outcome is RuleOutcome.UNKNOWN


def test_home_page_update_and_the_portal_rule() -> None:
    stale_home = col(0, ColumnClass.HOME, 14)
    assert (
        outcome(
            judge_website(facts(home=stale_home), now=NOW, rules=RULES), WebsiteRule.HOME_UPDATE
        )
        is RuleOutcome.FAIL
    )
    assert (
        outcome(
            judge_website(facts(home=col(0, ColumnClass.HOME, 13.9)), now=NOW, rules=RULES),
            WebsiteRule.HOME_UPDATE,
        )
        is RuleOutcome.PASS
    )
    portal = ColumnFacts(0, "首页", ColumnClass.HOME, True, True, 0, None, portal=True)
    fresh_second = [col(1, ColumnClass.OTHER, 3)]
    assert (
        outcome(
            judge_website(facts(fresh_second, home=portal), now=NOW, rules=RULES),
            WebsiteRule.HOME_UPDATE,
        )
        is RuleOutcome.PASS
    )
    assert (
        outcome(
            judge_website(facts([], home=portal), now=NOW, rules=RULES), WebsiteRule.HOME_UPDATE
        )
        is RuleOutcome.UNKNOWN
    )
    unread = ColumnFacts(0, "首页", ColumnClass.HOME, True, False, 0, None)
    assert (
        outcome(judge_website(facts(home=unread), now=NOW, rules=RULES), WebsiteRule.HOME_UPDATE)
        is RuleOutcome.UNKNOWN
    )


def test_column_rules_fire_at_their_thresholds() -> None:
    def judge(columns):
        return outcome(
            judge_website(facts(columns), now=NOW, rules=RULES), WebsiteRule.COLUMN_UPDATE
        )

    stale4 = [col(i, ColumnClass.NEWS, 15) for i in range(4)]
    assert judge(stale4) is RuleOutcome.PASS
    assert judge([*stale4, col(9, ColumnClass.NOTICE, 200)]) is RuleOutcome.FAIL
    # a second-level notice column is not counted by the first rule
    assert judge([*stale4, col(9, ColumnClass.NOTICE, 200, first=False)]) is RuleOutcome.PASS
    empty = [col(i, ColumnClass.OTHER, None, items=0) for i in range(5)]
    assert judge(empty[:4]) is RuleOutcome.PASS
    assert judge(empty) is RuleOutcome.FAIL
    long_stale = [col(i, ColumnClass.PERSONNEL, 400) for i in range(10)]
    assert judge(long_stale[:9]) is RuleOutcome.PASS
    assert judge(long_stale) is RuleOutcome.FAIL


def test_unread_columns_that_could_reach_a_limit_make_it_unknown() -> None:
    stale4 = [col(i, ColumnClass.NEWS, 15) for i in range(4)]
    unread = col(8, ColumnClass.NEWS, None, items=0, read=False)
    verdict = judge_website(facts([*stale4, unread]), now=NOW, rules=RULES)
    assert outcome(verdict, WebsiteRule.COLUMN_UPDATE) is RuleOutcome.UNKNOWN
    assert verdict.outcome == "unassessable"


def test_verdict_passes_fails_on_veto_and_scores_deductions() -> None:
    good = judge_website(facts([col(1, ColumnClass.NEWS, 1)]), now=NOW, rules=RULES)
    assert good.outcome == "pass" and good.points == 100 and not good.vetoes
    gambling = judge_website(facts(problems={"gambling": 1}), now=NOW, rules=RULES)
    assert gambling.outcome == "fail"
    assert [r.rule for r in gambling.vetoes] == [WebsiteRule.SERIOUS_ERROR]
    dead = WebsiteFacts(
        home=HOME,
        columns=[],
        probe_days=days(24, [0] * 7),
        dead_links=9,
        problems={"dead_link": 9, "typo": 3},
    )
    scored = judge_website(dead, now=NOW, rules=RULES, scoring=load_rules())
    assert scored.points == 100 - 5 - 3  # dead links capped at 5, typos 1 each


def test_visits_fall_one_per_slot_at_a_random_offset() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    moment, seen, rng = start, [], random.Random(3)
    for _ in range(48):
        moment = next_probe_at(moment, per_day=24, jitter=rng.random())
        seen.append(moment)
    per_day = {d: sum(1 for m in seen if m.date() == d) for d in {m.date() for m in seen}}
    assert per_day[date(2026, 12, 1)] == 23  # the first slot (00:00-01:00) was already begun
    assert per_day[date(2026, 12, 2)] == 24
    gaps = {round((b - a).total_seconds()) for a, b in itertools.pairwise(seen)}
    assert len(gaps) > 5  # irregular


def test_twenty_visits_fall_in_every_local_day() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    moment, seen, rng = datetime(2026, 12, 1, tzinfo=UTC), [], random.Random(5)
    for _ in range(20 * 4):
        moment = next_probe_at(moment, per_day=20, jitter=rng.random(), tz=tz)
        seen.append(moment.astimezone(tz).date())
    counts = {d: seen.count(d) for d in set(seen)}
    assert counts[date(2026, 12, 2)] == counts[date(2026, 12, 3)] == 20
