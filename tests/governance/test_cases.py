"""Case rules: the state machine, escalation steps and working-day deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from governance.cases import (
    CaseStatus,
    Level,
    WorkCalendar,
    after_explanation,
    can_extend,
    check_case_transition,
    deadline_after,
    decide_escalation,
    parse_dates,
    validate_explanation,
)
from governance.errors import InvalidInput, StaleAction

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def test_five_working_days_skip_the_weekend_and_end_at_local_midnight() -> None:
    due = deadline_after(MONDAY, 5, calendar=WorkCalendar(), tz=SH)
    # Mon 01-05 → Tue, Wed, Thu, Fri, Mon 01-12; the deadline is 24:00 on 01-12 local
    assert due == datetime(2026, 1, 12, 16, 0, tzinfo=UTC)
    friday_evening = datetime(2026, 1, 9, 14, 0, tzinfo=UTC)  # 22:00 Friday local
    assert deadline_after(friday_evening, 1, calendar=WorkCalendar(), tz=SH).astimezone(
        SH
    ).date() == date(2026, 1, 13)  # Monday 01-12 ends at 24:00 = 01-13 00:00


def test_holidays_are_skipped_and_make_up_days_count() -> None:
    calendar = WorkCalendar(
        holidays=parse_dates(["2026-01-06", "2026-01-07"]), workdays=parse_dates(["2026-01-10"])
    )
    assert not calendar.is_working_day(date(2026, 1, 6))
    assert calendar.is_working_day(date(2026, 1, 10))  # a Saturday 调休
    # Thu 08, Fri 09, Sat 10 (make-up), Mon 12, Tue 13
    assert calendar.add_working_days(date(2026, 1, 5), 5) == date(2026, 1, 13)
    six_day_week = WorkCalendar(weekend=frozenset({7}))
    assert six_day_week.add_working_days(date(2026, 1, 5), 5) == date(2026, 1, 10)


def test_calendar_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        WorkCalendar(weekend=frozenset(range(1, 8)))
    with pytest.raises(ValueError):
        parse_dates(["2026-13-01"])
    with pytest.raises(ValueError):
        WorkCalendar().add_working_days(date(2026, 1, 5), 0)


def test_state_machine() -> None:
    assert after_explanation(CaseStatus.OPEN) is CaseStatus.EXPLAINED
    assert after_explanation(CaseStatus.EXPLAINED) is CaseStatus.EXPLAINED
    assert after_explanation(CaseStatus.OVERDUE) is CaseStatus.OVERDUE  # late: still overdue
    for ended in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        with pytest.raises(StaleAction):
            after_explanation(ended)
        with pytest.raises(StaleAction):
            check_case_transition(ended, CaseStatus.OPEN)
    with pytest.raises(StaleAction):
        check_case_transition(CaseStatus.OPEN, CaseStatus.OPEN)
    check_case_transition(CaseStatus.OVERDUE, CaseStatus.OPEN)  # extended


def test_escalation_goes_one_level_per_missed_deadline_and_then_waits() -> None:
    deadline = MONDAY + timedelta(days=7)
    second = deadline + timedelta(days=7)
    before = decide_escalation(
        CaseStatus.OPEN,
        Level.RESPONSIBLE,
        deadline,
        now=deadline - timedelta(seconds=1),
        second_deadline=second,
    )
    assert before is None
    first = decide_escalation(
        CaseStatus.EXPLAINED, Level.RESPONSIBLE, deadline, now=deadline, second_deadline=second
    )
    assert first is not None
    assert (first.status, first.level, first.deadline) == (
        CaseStatus.OVERDUE,
        Level.MANAGER,
        second,
    )
    again = decide_escalation(
        CaseStatus.OVERDUE, Level.MANAGER, second, now=second, second_deadline=second
    )
    assert again is not None and again.level is Level.ADMINS
    waiting = decide_escalation(
        CaseStatus.OVERDUE,
        Level.ADMINS,
        second,
        now=second + timedelta(days=30),
        second_deadline=second,
    )
    assert waiting is None  # the admins decide; nothing repeats
    assert can_extend(CaseStatus.OVERDUE, Level.ADMINS)
    assert not can_extend(CaseStatus.OVERDUE, Level.MANAGER)
    # extended (open again at the admins' level): missing it asks the admins again
    extended = decide_escalation(
        CaseStatus.OPEN, Level.ADMINS, second, now=second, second_deadline=second
    )
    assert extended is not None and extended.level is Level.ADMINS
    assert (
        decide_escalation(
            CaseStatus.RESOLVED, Level.RESPONSIBLE, deadline, now=second, second_deadline=second
        )
        is None
    )


def test_explanation_length() -> None:
    with pytest.raises(InvalidInput):
        validate_explanation("好")
    with pytest.raises(InvalidInput):
        validate_explanation("长" * 1001)
    assert validate_explanation("  已恢复更新并安排专人值守  ") == "已恢复更新并安排专人值守"


def test_who_may_act_on_a_case() -> None:
    from governance.cases import can_decide_case, can_explain, can_open_case, can_record_interview
    from governance.roles import Actor, Role

    admin = Actor(user_id=1, unit_id=None, roles=frozenset({Role.ADMIN}))
    manager = Actor(user_id=2, unit_id=10, roles=frozenset({Role.UNIT_MANAGER}))
    editor = Actor(user_id=3, unit_id=10, roles=frozenset({Role.EDITOR}))
    gone = Actor(user_id=3, unit_id=10, roles=frozenset({Role.EDITOR}), active=False)
    assert can_explain(editor, responsible_id=3, unit_id=10)
    assert not can_explain(gone, responsible_id=3, unit_id=10)
    assert not can_explain(manager, responsible_id=3, unit_id=10)
    assert can_explain(manager, responsible_id=None, unit_id=10)  # while the invitee is away
    assert not can_explain(editor, responsible_id=None, unit_id=10)
    assert can_open_case(manager, 10) and not can_open_case(manager, 11)
    assert can_open_case(admin, 11) and not can_open_case(editor, 10)
    assert can_record_interview(manager, 10) and not can_record_interview(editor, 10)
    assert can_decide_case(admin) and not can_decide_case(manager)
