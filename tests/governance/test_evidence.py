"""Honest verdicts: what a report may claim about an account, and on what evidence."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from documents.reportbook import account_row
from documents.reporttext import basis_text, summary_lines
from governance.activity import DormancyState, PollHealth, compute_activity
from governance.evidence import (
    Basis,
    Fault,
    FeedReading,
    Lack,
    PollFact,
    feed_reading,
    poll_fault,
    silence_as_of,
)
from governance.inspection import judge
from governance.periods import Period, period_for
from governance.reporting import AccountInput, build_report
from governance.scoring import load_rules

TZ = ZoneInfo("Asia/Shanghai")
RULES = load_rules()
TODAY = date(2026, 5, 20)
NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("poll", "fault"),
    [
        (PollFact(NOW, "ok", 200, 3), None),
        (PollFact(NOW, "ok", 200, 0, "SAXParseException: unclosed token"), Fault.MALFORMED),
        (PollFact(NOW, "ok", 200, 1, "SAXParseException: 1:80: no element found"), Fault.MALFORMED),
        (PollFact(NOW, "ok", 200, 5, "CharacterEncodingOverride: declared gb2312"), None),
        (PollFact(NOW, "not_modified", 200, 0, "empty body"), Fault.EMPTY),
        (PollFact(NOW, "not_modified", 304), None),
        (PollFact(NOW, "no_posts", 200), None),
        (PollFact(NOW, "misconfigured", 404), Fault.HTTP),
        (PollFact(NOW, "server_error", 500), Fault.HTTP),
        (PollFact(NOW, "not_a_feed", 200), Fault.NOT_A_FEED),
        (PollFact(NOW, "forbidden_address"), Fault.REFUSED),
        (PollFact(NOW, "timeout"), Fault.TIMEOUT),
    ],
)
def test_each_poll_is_a_read_or_a_named_fault(poll: PollFact, fault: Fault | None) -> None:
    assert poll_fault(poll) is fault


def test_one_read_in_the_period_is_enough_and_otherwise_the_latest_fault_counts() -> None:
    start = NOW - 30 * DAY
    failing = [PollFact(NOW - DAY, "server_error", 500), PollFact(NOW, "misconfigured", 404)]
    assert feed_reading(failing, has_feed=True, since=start) == FeedReading(Fault.HTTP, 404)
    ok = [*failing, PollFact(NOW - 2 * DAY, "ok", 200, 5)]
    assert feed_reading(ok, has_feed=True, since=start).readable
    old_read = [PollFact(start - DAY, "ok", 200, 5)]
    assert feed_reading(old_read, has_feed=True, since=start).fault is Fault.NEVER_READ
    assert feed_reading([], has_feed=False, since=start).fault is Fault.NO_FEED
    assert feed_reading([], has_feed=True, since=start, last_success_at=NOW).readable


def test_days_without_posts_come_only_from_evidence() -> None:
    last = NOW - 10 * DAY
    seen = silence_as_of([last], as_of=NOW, oldest_seen=last, registered_at=None)
    assert (seen.days, seen.basis) == (10, Basis.LAST_POST)
    registered = silence_as_of([], as_of=NOW, oldest_seen=None, registered_at=NOW - 20 * DAY)
    assert (registered.days, registered.basis) == (20, Basis.REGISTERED)
    opened = silence_as_of(
        [], as_of=NOW, oldest_seen=None, registered_at=None, opened_at=NOW - 3 * DAY
    )
    assert (opened.days, opened.basis) == (3, Basis.OPENED)
    nothing = silence_as_of([], as_of=NOW, oldest_seen=None, registered_at=None)
    assert (nothing.days, nothing.lack) == (None, Lack.NO_EVIDENCE)
    later = silence_as_of([NOW], as_of=NOW - 60 * DAY, oldest_seen=NOW, registered_at=None)
    assert (later.days, later.lack) == (None, Lack.COVERAGE)


def account(id_: int, days_ago: list[int], **extra: object) -> AccountInput:
    values: dict[str, object] = {
        "id": id_,
        "name": f"账号{id_}",
        "unit": "甲单位",
        "platform": "wechat",
        "status": "active",
        "registered_at": NOW - 400 * DAY,
        "planned_per_week": 1,
        "post_times": [NOW - d * DAY for d in days_ago],
        "poll_health": PollHealth(NOW),
        "registered_known": False,
    } | extra
    return AccountInput(**values)  # type: ignore[arg-type]


def _report(accounts: list[AccountInput], period: Period | None = None):  # type: ignore[no-untyped-def]
    return build_report(
        accounts,
        [],
        period=period or period_for("quarter", TODAY),
        scope="",
        now=NOW,
        tz=TZ,
        rules=RULES,
    )


def test_accounts_whose_feeds_cannot_be_read_are_unassessable_never_passed() -> None:
    faults = [
        FeedReading(Fault.NO_FEED),
        FeedReading(Fault.HTTP, 404),
        FeedReading(Fault.HTTP, 500),
        FeedReading(Fault.REFUSED),
        FeedReading(Fault.TIMEOUT),
        FeedReading(Fault.NOT_A_FEED),
    ]
    report = _report([account(i, [], reading=r) for i, r in enumerate(faults, start=1)])
    assert (report.passed, report.failed, report.unassessable) == (0, 0, 6)
    assert all(not line.scored and line.days_dormant is None for line in report.accounts)
    assert all(line.state is DormancyState.UNKNOWN for line in report.accounts)
    rows = [account_row(line, report, TZ, lambda s: s) for line in report.accounts]
    assert {row[-2] for row in rows} == {"无法评估"} and {row[-3] for row in rows} == {None}
    assert "HTTP 404 错误" in rows[1][11] and "不评分" in rows[1][-1]
    text = "\n".join(summary_lines(report))
    assert "合格 0 个，不合格 0 个，无法评估 6 个" in text and "HTTP 404 错误 1 个" in text


def test_a_feed_with_no_items_is_never_dormancy_without_a_date_to_count_from() -> None:
    empty = account(1, [])
    report = _report([empty])
    line = report.accounts[0]
    assert line.outcome == "unassessable" and line.days_dormant is None
    assert "没有任何条目" in basis_text(line, TZ)
    known = _report([account(1, [], registered_known=True, registered_at=NOW - 20 * DAY)])
    assert known.accounts[0].days_dormant == 20 and known.accounts[0].outcome == "fail"
    assert "登记日期" in basis_text(known.accounts[0], TZ)


def test_a_past_period_the_feed_does_not_reach_is_coverage_not_closure() -> None:
    active = account(1, [1, 3, 5, 8], oldest_seen=NOW - 8 * DAY)
    report = _report([active], period_for("last_quarter", TODAY))
    line = report.accounts[0]
    assert line.state is DormancyState.UNKNOWN and line.days_dormant is None
    assert line.outcome == "unassessable" and "覆盖不足" in basis_text(line, TZ)
    verdict = judge(line, open_vetoes={}, checked_at=report.as_of, rules=RULES, tz=TZ)
    assert verdict.outcome == "unassessable"


def test_the_period_counts_silence_only_from_where_the_feed_history_begins() -> None:
    line = _report([account(1, [1, 2, 3], oldest_seen=NOW - 3 * DAY)]).accounts[0]
    assert line.longest_gap_days is not None and line.longest_gap_days < 2
    assert line.covered_from == NOW - 3 * DAY and "期内覆盖自" in basis_text(line, TZ)


def test_plan_compliance_uses_the_feed_history_and_says_when_it_is_too_short() -> None:
    registered = NOW - timedelta(hours=1)
    history = [NOW - d * DAY for d in (1, 2, 4)]
    fresh = compute_activity(
        history, registered_at=registered, planned_per_week=3, now=NOW, poll_health=PollHealth(NOW)
    )
    assert fresh.posts_7d == 3 and not fresh.below_plan and not fresh.plan_judged
    longer = [NOW - d * DAY for d in (1, 9, 20)]
    judged = compute_activity(
        longer, registered_at=registered, planned_per_week=3, now=NOW, poll_health=PollHealth(NOW)
    )
    assert judged.plan_judged and judged.below_plan and judged.plan_window_days == 20
