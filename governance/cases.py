"""Rectification cases (整改): their state machine, escalation and working-day deadlines.

Pure: the caller passes the case's status, level and deadline and the clock's ``now``. A case
is *open* until the responsible person sends a 整改说明 (*explained*); an explanation is not a
fix, so the deadline keeps running either way. Only monitoring resolves a case (the account
posts again, the finding is gone or waived). A missed deadline escalates one level at a time:
level 1 goes to the unit manager with a suggested 约谈 and a second deadline; missing that one
(level 2) recommends closing the account to the admins, who close it or extend the deadline.
Deadlines count working days of a configurable calendar (weekends off, holidays, 调休 days).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from zoneinfo import ZoneInfo

from governance.errors import InvalidInput, StaleAction
from governance.i18n import N_
from governance.roles import Actor


class CaseStatus(StrEnum):
    OPEN = "open"
    EXPLAINED = "explained"
    OVERDUE = "overdue"
    RESOLVED = "resolved"
    CLOSED = "closed"  # the account was closed: the case ends with it


class CaseKind(StrEnum):
    DORMANT = "dormant"  # 不更新（僵尸号）
    CONTENT = "content"  # veto findings (单项否决的内容问题)
    MANUAL = "manual"  # opened by hand from the account card
    WEBSITE = "website"  # a website veto rule (站点无法访问, 首页不更新, 栏目不更新)


class Level(IntEnum):
    RESPONSIBLE = 0
    MANAGER = 1  # overdue once: the unit manager is asked to hold a 约谈
    ADMINS = 2  # overdue twice: closing the account is recommended to the admins


CASE_STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.OPEN: N_("待整改"),
    CaseStatus.EXPLAINED: N_("已说明"),
    CaseStatus.OVERDUE: N_("已逾期"),
    CaseStatus.RESOLVED: N_("已整改"),
    CaseStatus.CLOSED: N_("已关停"),
}
CASE_KIND_LABELS: dict[CaseKind, str] = {
    CaseKind.DORMANT: N_("不更新（僵尸号）"),
    CaseKind.CONTENT: N_("单项否决内容问题"),
    CaseKind.MANUAL: N_("人工发起"),
    CaseKind.WEBSITE: N_("网站单项否决"),
}

ACTIVE_STATUSES: frozenset[CaseStatus] = frozenset(
    {CaseStatus.OPEN, CaseStatus.EXPLAINED, CaseStatus.OVERDUE}
)

#: Allowed moves. Explaining late keeps a case overdue (see :func:`after_explanation`).
CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset(
        {CaseStatus.EXPLAINED, CaseStatus.OVERDUE, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.EXPLAINED: frozenset(
        {CaseStatus.EXPLAINED, CaseStatus.OVERDUE, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.OVERDUE: frozenset(
        {CaseStatus.OVERDUE, CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED}
    ),
    CaseStatus.RESOLVED: frozenset(),
    CaseStatus.CLOSED: frozenset(),
}

EXPLANATION_MIN, EXPLANATION_MAX = 5, 1000
NOTE_MAX = 500


def check_case_transition(current: CaseStatus, target: CaseStatus) -> None:
    """Raise :class:`StaleAction` unless ``current → target`` is allowed."""
    if target not in CASE_TRANSITIONS[current]:
        raise StaleAction(
            N_("该整改当前状态为“{status}”，不能执行此操作。"),
            status=CASE_STATUS_LABELS[current],
        )


def after_explanation(current: CaseStatus) -> CaseStatus:
    """The status once a 整改说明 is recorded: an overdue case stays overdue."""
    target = CaseStatus.OVERDUE if current is CaseStatus.OVERDUE else CaseStatus.EXPLAINED
    check_case_transition(current, target)
    return target


def validate_explanation(text: str | None) -> str:
    value = (text or "").strip()
    if len(value) < EXPLANATION_MIN:
        raise InvalidInput(
            N_("整改说明至少需要 {min} 个字，请写清楚采取的措施。"), min=EXPLANATION_MIN
        )
    if len(value) > EXPLANATION_MAX:
        raise InvalidInput(
            N_("整改说明最多 {max} 个字，当前 {length} 个字，请精简后重新发送。"),
            max=EXPLANATION_MAX,
            length=len(value),
        )
    return value


# --- who may do what ------------------------------------------------------------------------


def can_explain(actor: Actor, *, responsible_id: int | None, unit_id: int) -> bool:
    """The responsible person; while the named person has not joined, the unit's managers."""
    if responsible_id is not None:
        return actor.active and actor.user_id == responsible_id
    return actor.manages(unit_id)


def can_open_case(actor: Actor, unit_id: int) -> bool:
    return actor.manages(unit_id)


def can_record_interview(actor: Actor, unit_id: int) -> bool:
    return actor.manages(unit_id)


def can_decide_case(actor: Actor) -> bool:
    """Closing, extending, confirming a by-hand case and waiving findings are the office's."""
    return actor.is_admin


# --- escalation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Escalation:
    """What a missed deadline does: the new status and level, and the next deadline if any."""

    status: CaseStatus
    level: Level
    deadline: datetime


def decide_escalation(
    status: CaseStatus,
    level: Level,
    deadline: datetime,
    *,
    now: datetime,
    second_deadline: datetime,
) -> Escalation | None:
    """The escalation due at ``now``, or None.

    ``second_deadline`` is the deadline the unit manager gets (computed by the caller from the
    calendar). A case overdue at the admins' level waits for their decision: nothing repeats.
    """
    if status not in ACTIVE_STATUSES or now < deadline:
        return None
    if status is CaseStatus.OVERDUE and level >= Level.ADMINS:
        return None
    if level is Level.RESPONSIBLE:
        return Escalation(CaseStatus.OVERDUE, Level.MANAGER, second_deadline)
    return Escalation(CaseStatus.OVERDUE, Level.ADMINS, deadline)


def can_extend(status: CaseStatus, level: Level) -> bool:
    """Only the admins' decision point offers an extension."""
    return status is CaseStatus.OVERDUE and level >= Level.ADMINS


# --- working days ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    """Which days are working days: ISO weekdays off, holidays, and make-up working days."""

    weekend: frozenset[int] = frozenset({6, 7})
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)
    """调休: weekend days that are working days."""

    def __post_init__(self) -> None:
        if not self.weekend <= set(range(1, 8)) or len(self.weekend) >= 7:
            raise ValueError("weekend must be ISO weekdays 1-7 and leave at least one working day")

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.isoweekday() not in self.weekend and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself never counts)."""
        if days < 1:
            raise ValueError("days must be at least 1")
        day, left = start, days
        for _ in range(days * 7 + 400):  # bounded: a calendar always has working days ahead
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
                if left == 0:
                    return day
        raise ValueError("no working day found; check the holiday list")


def deadline_after(start: datetime, days: int, *, calendar: WorkCalendar, tz: ZoneInfo) -> datetime:
    """The end (24:00 local) of the ``days``-th working day after ``start``, as aware UTC."""
    local = start.astimezone(tz).date()
    due = calendar.add_working_days(local, days)
    end = datetime.combine(due + timedelta(days=1), time(0, 0), tzinfo=tz)
    return end.astimezone(UTC)


def parse_dates(values: Iterable[str]) -> frozenset[date]:
    """ISO dates from a settings list; raises ``ValueError`` naming the bad one."""
    out = set()
    for value in values:
        try:
            out.add(date.fromisoformat(value.strip()))
        except ValueError:
            raise ValueError(f"not a date (YYYY-MM-DD): {value!r}") from None
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class CasePolicy:
    """The settings cases run on (see ``Settings.case_policy``)."""

    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    deadline_days: int = 5
    interview_days: int = 5
    extension_days: int = 5
    alert_chat_id: int | None = None

    def deadline(self, start: datetime, days: int | None = None) -> datetime:
        return deadline_after(start, days or self.deadline_days, calendar=self.calendar, tz=self.tz)
