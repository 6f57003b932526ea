"""Scores from the rule file: deductions, caps, vetoes, the pass mark, unit rankings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from governance.activity import DormancyState
from governance.errors import ConfigurationError
from governance.scoring import (
    AccountFacts,
    ScoringRules,
    load_rules,
    rank_units,
    rules_from,
    score_account,
)

RULES = load_rules()


def facts(
    state: DormancyState = DormancyState.ACTIVE,
    *,
    below_plan: bool = False,
    feed_broken: bool = False,
    **problems: int,
) -> AccountFacts:
    return AccountFacts(state, below_plan, feed_broken, problems)


def test_the_shipped_file_matches_the_documented_defaults() -> None:
    assert RULES.full == 100 and RULES.pass_mark == 60
    assert (RULES.warning, RULES.dormant, RULES.closure_candidate) == (5, 40, 60)
    assert RULES.per_severity == {"veto": 40, "serious": 10, "general": 2}
    assert RULES.points_for("typo") == 1 and RULES.points_for("ad") == 2
    assert RULES.points_for("hidden_link") == 10 and RULES.points_for("porn") == 40
    assert RULES.cap == {"typo": 10, "ad": 10, "dead_link": 20}
    assert (RULES.sample_ratio, RULES.sample_minimum, RULES.update_days) == (0.3, 1, 14)


def test_a_clean_active_account_keeps_every_point() -> None:
    score = score_account(facts(), RULES)
    assert (score.points, score.passed, score.deductions, score.vetoes) == (100, True, (), ())


def test_deductions_add_up_and_caps_bound_a_category() -> None:
    score = score_account(
        facts(DormancyState.WARNING, below_plan=True, typo=30, dead_link=1), RULES
    )
    assert [(d.reason, d.points) for d in score.deductions] == [
        ("超过1周未更新", 5),
        ("低于承诺的更新频率", 10),
        ("{category} {n} 处", 10),  # 30 typos at 1 point, capped at 10
        ("{category} {n} 处", 10),
    ]
    assert score.points == 65 and score.passed


def test_any_veto_fails_the_account_whatever_its_points() -> None:
    score = score_account(facts(pii=1), RULES)
    assert score.points == 60 and not score.passed
    assert [(v.reason, dict(v.params)) for v in score.vetoes] == [
        ("单项否决：{category}", {"category": "pii"})
    ]
    dormant = score_account(facts(DormancyState.DORMANT), RULES)
    assert dormant.points == 60 and not dormant.passed
    assert dormant.vetoes[0].reason == "单项否决：检查前2周内未更新"
    lenient = dataclasses.replace(RULES, dormant_is_veto=False)
    assert score_account(facts(DormancyState.DORMANT), lenient).passed


def test_points_never_go_below_zero_and_the_pass_mark_counts() -> None:
    score = score_account(
        facts(DormancyState.CLOSURE_CANDIDATE, below_plan=True, gambling=3), RULES
    )
    assert score.points == 0 and not score.passed
    low = score_account(facts(hidden_link=3, placeholder=2), RULES)
    assert low.points == 50 and not low.vetoes and not low.passed


def test_a_broken_feed_is_not_held_against_the_account_by_default() -> None:
    assert score_account(facts(DormancyState.UNKNOWN, feed_broken=True), RULES).points == 100
    strict = dataclasses.replace(RULES, feed_broken=5)
    assert score_account(facts(DormancyState.UNKNOWN, feed_broken=True), strict).points == 95


def test_engagement_is_never_an_input() -> None:
    names = {f.name for f in dataclasses.fields(AccountFacts)}
    assert names == {"state", "below_plan", "feed_broken", "problems", "reposts_missed"}
    assert not {"likes", "reads", "reposts", "views"} & names


def test_missed_repost_tasks_cost_points_only_when_the_rule_file_says_so() -> None:
    missed = dataclasses.replace(facts(), reposts_missed=2)
    assert RULES.repost_missed == 0  # off by default: national rules do not require it
    assert score_account(missed, RULES).points == 100
    counted = rules_from({"reposts": {"missed": 3}})
    score = score_account(missed, counted)
    assert score.points == 94
    assert [(d.reason, d.params) for d in score.deductions] == [
        ("逾期未完成转载任务 {n} 项", {"n": 2})
    ]
    with pytest.raises(ValueError):
        rules_from({"reposts": {"missed": -1}})


def test_units_rank_by_average_then_failures_and_share_ties() -> None:
    good, bad = score_account(facts(), RULES), score_account(facts(gambling=1), RULES)
    middle = score_account(facts(DormancyState.WARNING), RULES)
    ranks = rank_units(
        [("甲", good), ("乙", middle), ("丙", good), ("丁", bad), ("丁", good), ("戊", middle)]
    )
    assert [(r.rank, r.unit, r.accounts, r.average, r.failed) for r in ranks] == [
        (1, "丙", 1, 100.0, 0),
        (1, "甲", 1, 100.0, 0),
        (3, "乙", 1, 95.0, 0),
        (3, "戊", 1, 95.0, 0),
        (5, "丁", 2, 80.0, 1),
    ]


def test_a_rule_file_is_validated(tmp_path: Path) -> None:
    custom = tmp_path / "rules.toml"
    custom.write_text(
        "full = 100\npass_mark = 80\n[findings.category]\ntypo = 3\n[inspection]\nratio = 0.5\n",
        encoding="utf-8",
    )
    rules = load_rules(custom)
    assert rules.pass_mark == 80 and rules.points_for("typo") == 3 and rules.sample_ratio == 0.5
    assert rules.dormant == 40  # unspecified rules keep their defaults
    for bad in (
        {"findings": {"category": {"likes": 1}}},
        {"findings": {"severity": {"minor": 1}}},
        {"activity": {"dormant": -5}},
        {"inspection": {"ratio": 0}},
        {"pass_mark": 120},
    ):
        with pytest.raises(ValueError):
            rules_from(bad)
    custom.write_text("full = [", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="评分规则文件"):
        load_rules(custom)
    with pytest.raises(ConfigurationError):
        load_rules(tmp_path / "missing.toml")
    assert isinstance(rules_from({}), ScoringRules)
