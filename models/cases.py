"""Rectification cases (整改): the table and its reads; the workflows are in ``workflows.cases``.

A case is opened by the evaluation job (dormant account), by the quality scan (veto finding)
or by hand from the account card, always in the caller's transaction. ``active_key`` is set
while the case is active and cleared when it ends, so a unique index keeps one active case per
account and problem (dormant, content, manual) and a re-run opens nothing twice. While an
account has an active case it is 整改中; when its last case is resolved it is 在用 again. Every
move writes an audit row and queues its notices in the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.cases import (
    ACTIVE_STATUSES,
    CaseKind,
    CaseStatus,
)
from governance.errors import NotFound, PermissionDenied
from governance.i18n import N_
from governance.registry import (
    AccountStatus,
)
from governance.roles import Actor
from models.base import EnumString, UTCDateTime
from models.findings import StoredFinding
from models.paging import Cursor, Order, Page, keyset_page, micros, moment

ACTIVE_VALUES = [s.value for s in ACTIVE_STATUSES]
#: Resolutions found by monitoring are stored as message ids and translated when shown.
RESOLVED_POSTED = N_("监测显示账号已恢复更新")
RESOLVED_FINDINGS = N_("监测显示问题已消除或经管理员豁免")
RESOLVED_WEBSITE = N_("监测显示网站单项否决情形已消除")
#: Accounts a case may be opened for: live and monitored.
CASE_ACCOUNT_STATUSES = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING)


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    kind: CaseKind = Field(sa_type=EnumString(CaseKind, 16))
    # "account:kind" while the case is active, NULL once it ends: one active case per problem
    active_key: str | None = Field(default=None, max_length=80, unique=True)
    problems: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    description: str | None = Field(default=None, max_length=500)
    responsible_id: int | None = Field(default=None, foreign_key="users.id")
    status: CaseStatus = Field(
        default=CaseStatus.OPEN, sa_type=EnumString(CaseStatus, 16), index=True
    )
    level: int = 0
    deadline: datetime = Field(sa_type=UTCDateTime())
    opened_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    opened_by: int | None = Field(default=None, foreign_key="users.id")
    explanation: str | None = Field(default=None, max_length=1000)
    explained_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    overdue_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    interview_note: str | None = Field(default=None, max_length=500)
    interviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    interviewed_by: int | None = Field(default=None, foreign_key="users.id")
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), index=True)
    resolution: str | None = Field(default=None, max_length=500)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    notice_url: str | None = Field(default=None, max_length=2048)
    updated_at: datetime = Field(sa_type=UTCDateTime())
    version: int = 1

    __table_args__ = (sa.Index("ix_cases_deadline_id", "deadline", "id"),)  # /cases pages


def case_snapshot(case: Case) -> dict[str, Any]:
    return {
        "status": case.status,
        "level": case.level,
        "deadline": case.deadline.isoformat(),
        "problems": len(case.problems),
    }


def active_key(account_id: int, kind: CaseKind) -> str:
    return f"{account_id}:{kind.value}"


# --- reading ------------------------------------------------------------------------------------


async def get_case(session: AsyncSession, case_id: int) -> Case:
    case = await session.get(Case, case_id)
    if case is None:
        raise NotFound(N_("找不到编号为 {id} 的整改。"), id=case_id)
    return case


async def get_visible_case(session: AsyncSession, *, case_id: int, actor: Actor) -> Case:
    """Admins see every case; members of the unit see their unit's."""
    case = await get_case(session, case_id)
    if not (actor.is_admin or actor.belongs_to(case.unit_id)):
        raise PermissionDenied(N_("你无权查看该整改。"))
    return case


async def active_cases(
    session: AsyncSession, *, actor: Actor | None = None, unit_id: int | None = None
) -> list[Case]:
    """Active cases, overdue first then by deadline; scoped to the actor's unit unless admin."""
    stmt = select(Case).where(col(Case.status).in_(ACTIVE_VALUES))
    if actor is not None and not actor.is_admin:
        stmt = stmt.where(Case.unit_id == (actor.unit_id or -1))
    if unit_id is not None:
        stmt = stmt.where(Case.unit_id == unit_id)
    rows = list(await session.exec(stmt.order_by(col(Case.unit_id), col(Case.deadline))))
    return sorted(rows, key=lambda c: (c.unit_id, c.status != CaseStatus.OVERDUE))


#: Active cases read most urgent first; ended ones newest first.
BY_DEADLINE = Order(
    key=col(Case.deadline),
    id=col(Case.id),
    key_of=lambda c: micros(c.deadline),
    id_of=lambda c: c.id or 0,
    param=moment,
)
NEWEST_FIRST = Order(
    key=col(Case.id),
    id=col(Case.id),
    key_of=lambda c: c.id or 0,
    id_of=lambda c: c.id or 0,
    descending=True,
)


def _scoped(stmt: Any, actor: Actor, unit_id: int | None) -> Any:
    if not actor.is_admin:
        stmt = stmt.where(Case.unit_id == (actor.unit_id or -1))
    if unit_id is not None:
        stmt = stmt.where(Case.unit_id == unit_id)
    return stmt


async def cases_page(
    session: AsyncSession,
    *,
    actor: Actor,
    unit_id: int | None,
    status: CaseStatus | None,
    cursor: Cursor | None,
    size: int,
) -> Page[Case]:
    """A keyset page of the cases the actor may see: active ones (``status`` None) by
    deadline, or those in one status (ended ones newest first)."""
    stmt = select(Case).where(
        col(Case.status).in_(ACTIVE_VALUES) if status is None else Case.status == status
    )
    order = BY_DEADLINE if status is None or status.value in ACTIVE_VALUES else NEWEST_FIRST
    return await keyset_page(
        session, _scoped(stmt, actor, unit_id), order=order, cursor=cursor, size=size
    )


async def count_in_status(
    session: AsyncSession, *, actor: Actor, unit_id: int | None, status: CaseStatus
) -> int:
    stmt = _scoped(select(func.count()).where(Case.status == status), actor, unit_id)
    return int((await session.exec(stmt)).one())


async def account_cases(session: AsyncSession, *, account_id: int, limit: int = 5) -> list[Case]:
    """The account's cases, active ones first, newest first."""
    rows = await session.exec(
        select(Case).where(Case.account_id == account_id).order_by(col(Case.id).desc()).limit(50)
    )
    ordered = sorted(rows, key=lambda c: (c.status not in ACTIVE_VALUES, -(c.id or 0)))
    return ordered[:limit]


async def count_between(
    session: AsyncSession,
    *,
    column: Literal["opened_at", "resolved_at", "overdue_at"],
    start: datetime,
    end: datetime,
    unit_id: int | None = None,
) -> int:
    """Cases whose ``opened_at`` / ``resolved_at`` / ``overdue_at`` falls in [start, end)."""
    field = getattr(Case, column)
    stmt = select(func.count()).select_from(Case).where(field >= start, field < end)
    if unit_id is not None:
        stmt = stmt.where(Case.unit_id == unit_id)
    return int((await session.exec(stmt)).one())


async def count_overdue(session: AsyncSession, *, unit_id: int | None = None) -> int:
    stmt = select(func.count()).select_from(Case).where(Case.status == CaseStatus.OVERDUE)
    if unit_id is not None:
        stmt = stmt.where(Case.unit_id == unit_id)
    return int((await session.exec(stmt)).one())


def finding_problem(row: StoredFinding) -> dict[str, Any]:
    # the finding's id, not its key; the text is stored masked when it is personal data
    return {"kind": "finding", "finding_id": row.id, "category": row.category, "text": row.text}


def problem_id(problem: dict[str, Any]) -> str:
    if problem.get("kind") == "finding":
        return f"finding:{problem.get('finding_id')}"
    return f"{problem.get('kind')}:{problem.get('text', '')}"


def deadline_text(moment: datetime, tz: ZoneInfo) -> str:
    """A deadline at local midnight reads as the day it ends (24:00 of 01-12 → 2026-01-12)."""
    local = moment.astimezone(tz)
    if (local.hour, local.minute) == (0, 0):
        return (local - timedelta(minutes=1)).strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M")
