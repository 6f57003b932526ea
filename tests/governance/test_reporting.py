"""Report figures: periods, typed dates, in-period activity, the sample and the verdicts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from governance.activity import DormancyState, PollHealth
from governance.errors import InvalidInput
from governance.inspection import draw_sample, inspect, judge
from governance.periods import Period, parse_dates, period_for
from governance.reporting import AccountInput, FindingInput, build_report, period_figures
from governance.scoring import load_rules

TZ = ZoneInfo("Asia/Shanghai")
RULES = load_rules()
TODAY = date(2026, 5, 20)
NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("week", date(2026, 5, 14), TODAY),
        ("month", date(2026, 5, 1), TODAY),
        ("last_month", date(2026, 4, 1), date(2026, 4, 30)),
        ("quarter", date(2026, 4, 1), TODAY),
        ("last_quarter", date(2026, 1, 1), date(2026, 3, 31)),
        ("year", date(2026, 1, 1), TODAY),
    ],
)
def test_named_periods(kind: str, start: date, end: date) -> None:
    assert period_for(kind, TODAY) == Period(start, end, kind)


def test_last_quarter_across_a_year_boundary() -> None:
    assert period_for("last_quarter", date(2026, 2, 3)) == Period(
        date(2025, 10, 1), date(2025, 12, 31), "last_quarter"
    )
    with pytest.raises(ValueError):
        period_for("decade", TODAY)


def test_period_bounds_are_local_days_in_utc() -> None:
    start, end = Period(date(2026, 1, 1), date(2026, 3, 31)).bounds(TZ)
    assert start == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 16, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-01~2026-03-31",
        "2026/1/1 至 2026/3/31",
        "2026年1月1日～2026年3月31日",
        " 2026.01.01 - 2026.03.31 ",
    ],
)
def test_typed_dates(text: str) -> None:
    assert parse_dates(text, TODAY) == Period(date(2026, 1, 1), date(2026, 3, 31), "dates")


def test_typed_dates_end_today_at_the_latest() -> None:
    assert parse_dates("2026-05-01~2026-12-31", TODAY).end == TODAY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("上个季度", "日期格式不对"),
        ("2026-02-30~2026-03-01", "日期不存在"),
        ("2026-03-01~2026-02-01", "结束日期不能早于开始日期"),
        ("2026-06-01~2026-07-01", "开始日期不能晚于今天"),
        ("2020-01-01~2026-01-01", "时间段太长"),
        ("x" * 5000, "日期格式不对"),
    ],
)
def test_bad_dates_get_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_dates(text, TODAY)
    assert message in str(caught.value)


def test_period_figures_count_silence_from_the_period_start() -> None:
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 31, tzinfo=UTC)
    old = datetime(2025, 1, 1, tzinfo=UTC)
    posts = [datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 10, tzinfo=UTC)]
    assert period_figures(posts, start=start, end=end, registered_at=old) == (2, 21.0)
    assert period_figures([], start=start, end=end, registered_at=old) == (0, 30.0)
    later = datetime(2026, 1, 20, tzinfo=UTC)
    assert period_figures([], start=start, end=end, registered_at=later) == (0, 11.0)
    assert period_figures([], start=start, end=end, registered_at=end) == (0, None)
    assert period_figures(posts, start=start, end=end, registered_at=None) == (2, None)


def account(id_: int, unit: str, days_ago: list[int], **extra: object) -> AccountInput:
    values: dict[str, object] = {
        "id": id_,
        "name": f"账号{id_}",
        "unit": unit,
        "platform": "wechat",
        "status": "active",
        "registered_at": NOW - timedelta(days=400),
        "planned_per_week": 1,
        "post_times": [NOW - timedelta(days=d) for d in days_ago],
        "poll_health": PollHealth(NOW),
    } | extra
    return AccountInput(**values)  # type: ignore[arg-type]


def finding(account_id: int, category: str, severity: str, problem: str) -> FindingInput:
    return FindingInput(
        account_id, category, severity, problem, "文字", "上下文", "标题", None, NOW, "open"
    )


def test_build_report_scores_ranks_and_counts() -> None:
    accounts = [
        account(1, "甲单位", [1, 3, 6, 9]),
        account(2, "乙单位", [20, 40]),
        account(3, "乙单位", [2], poll_health=PollHealth(None, 9)),
    ]
    findings = [
        finding(1, "typo", "general", "k1"),
        finding(1, "typo", "general", "k1"),  # the same problem on another post
        finding(2, "porn", "veto", "k2"),
    ]
    report = build_report(
        accounts,
        findings,
        period=period_for("month", TODAY),
        scope="全部单位",
        now=NOW,
        tz=TZ,
        rules=RULES,
    )
    lines = {line.account.id: line for line in report.accounts}
    assert lines[1].posts == 4 and lines[1].problems == {"typo": 1} and lines[1].score.points == 99
    assert lines[2].state is DormancyState.DORMANT and lines[2].days_dormant == 20
    assert lines[2].posts == 0 and not lines[2].score.passed
    assert lines[3].state is DormancyState.UNKNOWN and lines[3].feed_broken
    assert lines[3].outcome == "unassessable" and not lines[3].scored  # a monitoring fault
    assert [(u.unit, u.rank.rank, u.accounts, u.problems, u.dormant) for u in report.units] == [
        ("甲单位", 1, 1, 1, 0),
        ("乙单位", 2, 2, 1, 1),
    ]
    assert report.units[1].rank.accounts == 1  # the unassessable account is not averaged
    assert report.states == {
        DormancyState.ACTIVE: 1,
        DormancyState.DORMANT: 1,
        DormancyState.UNKNOWN: 1,
    }
    assert report.categories == {"typo": 1, "porn": 1} and len(report.findings) == 2
    assert report.findings[0].occurrences == 2  # one problem, seen on two posts
    assert (report.passed, report.failed, report.unassessable) == (1, 1, 1)
    weeks = dict(report.weekly["甲单位"])
    assert min(weeks) == date(2026, 4, 27) and sum(weeks.values()) == 4


def test_a_past_period_is_judged_as_of_its_end() -> None:
    accounts = [account(1, "甲", [2, 70, 75])]  # silent through April, active again in May
    report = build_report(
        accounts, [], period=period_for("last_month", TODAY), scope="", now=NOW, tz=TZ, rules=RULES
    )
    line = report.accounts[0]
    assert line.posts == 0 and line.state is DormancyState.DORMANT
    assert report.as_of == datetime(2026, 4, 30, 16, tzinfo=UTC)


def test_the_sample_is_reproducible_and_sized_by_the_ratio() -> None:
    ids = list(range(1, 101))
    first = draw_sample(ids, ratio=0.3, seed=2026)
    assert len(first) == 30 and first == sorted(first)
    assert draw_sample(list(reversed(ids)), ratio=0.3, seed=2026) == first
    assert draw_sample(ids, ratio=0.3, seed=2027) != first
    assert draw_sample([5], ratio=0.01, seed=1) == [5]
    assert draw_sample([], ratio=0.5, seed=1) == []
    assert draw_sample(ids, ratio=1, seed=3) == ids
    with pytest.raises(ValueError):
        draw_sample(ids, ratio=0, seed=1)


def test_verdicts_follow_the_national_rules() -> None:
    report = build_report(
        [
            account(1, "甲", [3]),
            account(2, "甲", [15]),
            account(3, "甲", [1]),
            account(4, "甲", [1], poll_health=PollHealth(None, 9)),
            account(5, "甲", [], polled=False),
        ],
        [],
        period=period_for("quarter", TODAY),
        scope="",
        now=NOW,
        tz=TZ,
        rules=RULES,
    )
    lines = {line.account.id: line for line in report.accounts}
    ok = judge(lines[1], open_vetoes={}, checked_at=NOW, rules=RULES, tz=TZ)
    assert ok.outcome == "pass"
    silent = judge(lines[2], open_vetoes={}, checked_at=NOW, rules=RULES, tz=TZ)
    assert silent.outcome == "fail"
    assert silent.reasons == (
        ("检查前 {days} 天内未更新（最近更新：{last}）", {"days": 14, "last": "2026-05-05"}),
    )
    veto = judge(lines[3], open_vetoes={"wording": 2}, checked_at=NOW, rules=RULES, tz=TZ)
    assert veto.outcome == "fail"
    assert veto.reasons == (
        ("存在单项否决问题：{category} {n} 处", {"category": "wording", "n": 2}),
    )
    broken = judge(lines[4], open_vetoes={}, checked_at=NOW, rules=RULES, tz=TZ)
    assert broken.outcome == "unassessable"
    never = judge(lines[5], open_vetoes={"pii": 1}, checked_at=NOW, rules=RULES, tz=TZ)
    assert never.outcome == "fail"  # a veto problem fails it even when the feed is unknown
    inspected = inspect(report, open_vetoes={}, seed=9, rules=RULES, tz=TZ, ratio=0.4)
    assert inspected.inspection is not None
    assert inspected.inspection.candidates == (1, 2, 3, 4, 5)
    assert [v.account.account.id for v in inspected.inspection.verdicts] == draw_sample(
        [1, 2, 3, 4, 5], ratio=0.4, seed=9
    )


def test_only_accounts_in_use_are_sampled() -> None:
    report = build_report(
        [account(1, "甲", [1]), account(2, "甲", [1], status="closed")],
        [],
        period=period_for("quarter", TODAY),
        scope="",
        now=NOW,
        tz=TZ,
        rules=RULES,
    )
    inspected = inspect(report, open_vetoes={}, seed=1, rules=RULES, tz=TZ, ratio=1)
    assert inspected.inspection is not None and inspected.inspection.candidates == (1,)
