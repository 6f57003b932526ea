"""Rectification cases (整改) in the database: open, explain, escalate, resolve, close.

A case is opened by the evaluation job (dormant account), by the quality scan (veto finding)
or by hand from the account card, always in the caller's transaction. ``active_key`` is set
while the case is active and cleared when it ends, so a unique index keeps one active case per
account and problem (dormant, content, manual) and a re-run opens nothing twice. While an
account has an active case it is 整改中; when its last case is resolved it is 在用 again. Every
move writes an audit row and queues its notices in the outbox.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.cases import (
    ACTIVE_STATUSES,
    NOTE_MAX,
    CaseKind,
    CasePolicy,
    CaseStatus,
    Level,
    after_explanation,
    can_decide_case,
    can_explain,
    can_extend,
    can_open_case,
    can_record_interview,
    check_case_transition,
    decide_escalation,
    validate_explanation,
)
from governance.errors import NotFound, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.registry import (
    AccountStatus,
    validate_http_url,
    validate_reason,
    validate_text,
)
from governance.roles import Actor
from models import audit, outbox, recipients
from models.accounts import Account, change_status, get_account, snapshot
from models.base import EnumString, UTCDateTime
from models.findings import FindingStatus, StoredFinding
from models.people import Unit

ACTIVE_VALUES = [s.value for s in ACTIVE_STATUSES]
#: Resolutions found by monitoring are stored as message ids and translated when shown.
RESOLVED_POSTED = N_("监测显示账号已恢复更新")
RESOLVED_FINDINGS = N_("监测显示问题已消除或经管理员豁免")
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


# --- opening ------------------------------------------------------------------------------------


async def ensure_case(
    session: AsyncSession,
    *,
    account: Account,
    kind: CaseKind,
    problems: Sequence[dict[str, Any]],
    now: datetime,
    policy: CasePolicy,
    actor: Actor | None = None,
    description: str | None = None,
) -> Case | None:
    """Open a case for the account's problem unless one is active; return it if opened.

    An active case of the same kind takes in problems it does not cover yet (a second veto
    finding joins the open content case) without a new notice.
    """
    key = active_key(account.id or 0, kind)
    existing = (await session.exec(select(Case).where(Case.active_key == key))).first()
    if existing is not None:
        known = {_problem_id(p) for p in existing.problems}
        added = [dict(p) for p in problems if _problem_id(p) not in known]
        if added:
            before = case_snapshot(existing)
            existing.problems = [*existing.problems, *added]
            await _save(session, existing, now=now)
            await audit.record(
                session,
                at=now,
                actor_id=actor.user_id if actor else None,
                action="case.problems_added",
                object_type="case",
                object_id=existing.id,
                before=before,
                after=case_snapshot(existing),
            )
        return None
    case = Case(
        account_id=account.id or 0,
        unit_id=account.unit_id,
        kind=kind,
        active_key=key,
        problems=[dict(p) for p in problems],
        description=description,
        responsible_id=account.responsible_id,
        status=CaseStatus.OPEN,
        level=Level.RESPONSIBLE,
        deadline=policy.deadline(now),
        opened_at=now,
        opened_by=actor.user_id if actor else None,
        updated_at=now,
    )
    session.add(case)
    # A concurrent run may have opened it first: the unique key decides, and we step aside.
    try:
        async with session.begin_nested():
            await session.flush()
    except sa.exc.IntegrityError:
        return None
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id if actor else None,
        action="case.opened",
        object_type="case",
        object_id=case.id,
        after={**case_snapshot(case), "account_id": account.id, "kind": kind.value},
        note=description,
    )
    await _sync_account_status(session, account=account, now=now)
    await _notify(
        session,
        case,
        account=account,
        kind="case.opened",
        audience=_responsible,
        fallback=_managers,  # while the named person has not joined, the unit hears
        now=now,
        policy=policy,
        extra={"days": policy.deadline_days},
    )
    return case


async def open_by_hand(
    session: AsyncSession,
    *,
    account_id: int,
    actor: Actor,
    description: str | None,
    now: datetime,
    policy: CasePolicy,
) -> Case:
    """Admins and the unit's managers open a case from the account card.

    It covers what is written and the account's open findings at the time, so monitoring can
    still show the fix; a case about something monitoring cannot see is resolved by an admin.
    """
    account = await get_account(session, account_id)
    if not can_open_case(actor, account.unit_id):
        raise PermissionDenied(N_("只有管理员和本单位管理员可以发起整改。"))
    if account.status not in CASE_ACCOUNT_STATUSES:
        raise StaleAction(N_("只能对在用或整改中的账号发起整改。"))
    text = validate_text(description, label=N_("整改事项"), min_len=4, max_len=500, one_line=False)
    problems = [{"kind": "note", "text": text}] + await open_finding_problems(
        session, account_id=account_id
    )
    case = await ensure_case(
        session,
        account=account,
        kind=CaseKind.MANUAL,
        problems=problems,
        now=now,
        policy=policy,
        actor=actor,
        description=text,
    )
    if case is None:
        raise StaleAction(N_("该账号已有人工发起的整改在办，请先处理该整改。"))
    return case


async def open_finding_problems(
    session: AsyncSession, *, account_id: int, severities: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """One problem per distinct open finding of the account (optionally of some severities)."""
    stmt = select(StoredFinding).where(
        StoredFinding.account_id == account_id,
        StoredFinding.status == FindingStatus.OPEN,
    )
    if severities is not None:
        stmt = stmt.where(col(StoredFinding.severity).in_(list(severities)))
    seen: dict[str, dict[str, Any]] = {}
    for row in await session.exec(stmt.order_by(col(StoredFinding.id))):
        seen.setdefault(row.account_key, finding_problem(row))
    return list(seen.values())


def finding_problem(row: StoredFinding) -> dict[str, Any]:
    # the finding's id, not its key; the text is stored masked when it is personal data
    return {"kind": "finding", "finding_id": row.id, "category": row.category, "text": row.text}


def _problem_id(problem: dict[str, Any]) -> str:
    if problem.get("kind") == "finding":
        return f"finding:{problem.get('finding_id')}"
    return f"{problem.get('kind')}:{problem.get('text', '')}"


# --- the responsible person's explanation -------------------------------------------------------


async def explain(
    session: AsyncSession,
    *,
    case_id: int,
    actor: Actor,
    text: str | None,
    now: datetime,
    policy: CasePolicy,
) -> Case:
    """The responsible person (or, while there is none, a unit manager) files a 整改说明."""
    case = await get_case(session, case_id)
    account = await get_account(session, case.account_id)
    if not can_explain(actor, responsible_id=account.responsible_id, unit_id=case.unit_id):
        raise PermissionDenied(N_("只有该账号的责任人可以提交整改说明。"))
    target = after_explanation(case.status)
    body = validate_explanation(text)
    before = case_snapshot(case)
    case.status, case.explanation, case.explained_at = target.value, body, now
    await _save(session, case, now=now)
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="case.explained",
        object_type="case",
        object_id=case.id,
        before=before,
        after=case_snapshot(case),
        note=body,
    )
    await _notify(
        session,
        case,
        account=account,
        kind="case.explained",
        audience=_office,
        now=now,
        policy=policy,
        extra={"explanation": body},
        stamp=now,
    )
    return case


# --- escalation ---------------------------------------------------------------------------------


async def escalate_due(session: AsyncSession, *, now: datetime, policy: CasePolicy) -> int:
    """Escalate every active case whose deadline has passed; return how many moved."""
    rows = list(
        await session.exec(
            select(Case).where(col(Case.status).in_(ACTIVE_VALUES), Case.deadline <= now)
        )
    )
    moved = 0
    for case in rows:
        step = decide_escalation(
            case.status,
            Level(min(case.level, Level.ADMINS)),
            case.deadline,
            now=now,
            second_deadline=policy.deadline(now, policy.interview_days),
        )
        if step is None:
            continue
        check_case_transition(case.status, step.status)
        before = case_snapshot(case)
        missed = case.deadline
        case.status, case.level, case.deadline = step.status.value, int(step.level), step.deadline
        case.overdue_at = now
        await _save(session, case, now=now)
        await audit.record(
            session,
            at=now,
            actor_id=None,
            action="case.overdue",
            object_type="case",
            object_id=case.id,
            before=before,
            after=case_snapshot(case),
        )
        account = await get_account(session, case.account_id)
        extra = {"missed": _local(missed, policy)}
        if step.level is Level.MANAGER:
            await _notify(
                session,
                case,
                account=account,
                kind="case.interview_suggested",
                audience=_managers,
                now=now,
                policy=policy,
                extra=extra,
                stamp=missed,
            )
            await _notify(
                session,
                case,
                account=account,
                kind="case.overdue",
                audience=_responsible,
                now=now,
                policy=policy,
                extra=extra,
                stamp=missed,
            )
        else:
            await _notify(
                session,
                case,
                account=account,
                kind="case.closure_recommended",
                audience=_office,
                now=now,
                policy=policy,
                extra=extra,
                stamp=missed,
            )
        moved += 1
    return moved


async def record_interview(
    session: AsyncSession,
    *,
    case_id: int,
    actor: Actor,
    note: str | None,
    now: datetime,
    policy: CasePolicy,
) -> Case:
    """The unit manager records that the 约谈 was held (when, with whom, what was agreed)."""
    case = await get_case(session, case_id)
    if not can_record_interview(actor, case.unit_id):
        raise PermissionDenied(N_("只有本单位管理员或管理员可以记录约谈。"))
    if case.status not in ACTIVE_STATUSES or case.level < Level.MANAGER:
        raise StaleAction(N_("该整改尚未逾期，无需约谈。"))
    if case.interviewed_at is not None:
        raise StaleAction(N_("该整改的约谈已记录。"))
    body = validate_text(note, label=N_("约谈情况"), min_len=4, max_len=NOTE_MAX, one_line=False)
    before = case_snapshot(case)
    case.interview_note, case.interviewed_at, case.interviewed_by = body, now, actor.user_id
    await _save(session, case, now=now)
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="case.interviewed",
        object_type="case",
        object_id=case.id,
        before=before,
        after={**case_snapshot(case), "interviewed": True},
        note=body,
    )
    account = await get_account(session, case.account_id)
    await _notify(
        session,
        case,
        account=account,
        kind="case.interviewed",
        audience=_office,
        now=now,
        policy=policy,
        extra={"note": body},
    )
    return case


async def extend(
    session: AsyncSession,
    *,
    case_id: int,
    actor: Actor,
    now: datetime,
    policy: CasePolicy,
    version: int | None = None,
) -> Case:
    """Admins give an account overdue twice one more deadline instead of closing it."""
    if not can_decide_case(actor):
        raise PermissionDenied(N_("只有管理员可以延期整改。"))
    case = await get_case(session, case_id)
    _check_version(case, version)
    if not can_extend(case.status, Level(min(case.level, Level.ADMINS))):
        raise StaleAction(N_("该整改当前不需要延期。"))
    check_case_transition(case.status, CaseStatus.OPEN)
    before = case_snapshot(case)
    case.status, case.deadline = CaseStatus.OPEN, policy.deadline(now, policy.extension_days)
    await _save(session, case, now=now)
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="case.extended",
        object_type="case",
        object_id=case.id,
        before=before,
        after=case_snapshot(case),
    )
    account = await get_account(session, case.account_id)
    await _notify(
        session,
        case,
        account=account,
        kind="case.extended",
        audience=_responsible_and_managers,
        now=now,
        policy=policy,
        stamp=now,
    )
    return case


async def close_account(
    session: AsyncSession,
    *,
    case_id: int,
    actor: Actor,
    notice_url: str | None,
    now: datetime,
    policy: CasePolicy,
    version: int | None = None,
) -> Case:
    """Admins confirm the closure: the 停更公告 link is recorded and the account is 关停.

    Every other active case of the account ends with it.
    """
    if not can_decide_case(actor):
        raise PermissionDenied(N_("只有管理员可以确认关停账号。"))
    case = await get_case(session, case_id)
    _check_version(case, version)
    check_case_transition(case.status, CaseStatus.CLOSED)
    url = validate_http_url(notice_url, label=N_("停更公告链接"))
    reason = f"整改逾期，确认关停；停更公告：{url}"
    account = await change_status(
        session,
        account_id=case.account_id,
        target=AccountStatus.CLOSED,
        actor=actor,
        now=now,
        reason=validate_reason(reason[:500], label=N_("原因")),
    )
    siblings = await session.exec(
        select(Case).where(Case.account_id == case.account_id, col(Case.status).in_(ACTIVE_VALUES))
    )
    for row in list(siblings):
        before = case_snapshot(row)
        row.status, row.active_key, row.closed_at = CaseStatus.CLOSED, None, now
        row.notice_url = url
        await _save(session, row, now=now)
        await audit.record(
            session,
            at=now,
            actor_id=actor.user_id,
            action="case.closed",
            object_type="case",
            object_id=row.id,
            before=before,
            after={**case_snapshot(row), "notice_url": url},
        )
    await _notify(
        session,
        case,
        account=account,
        kind="case.closed",
        audience=_responsible_and_managers,
        now=now,
        policy=policy,
        extra={"notice_url": url},
    )
    await session.refresh(case)
    return case


# --- resolution ---------------------------------------------------------------------------------


async def resolve(
    session: AsyncSession,
    *,
    case: Case,
    resolution: str,
    now: datetime,
    policy: CasePolicy,
    actor: Actor | None = None,
) -> None:
    """End a case as rectified (by monitoring, or by an admin for what monitoring cannot see)."""
    check_case_transition(case.status, CaseStatus.RESOLVED)
    before = case_snapshot(case)
    case.status, case.active_key = CaseStatus.RESOLVED, None
    case.resolved_at, case.resolution = now, resolution[:500]
    await _save(session, case, now=now)
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id if actor else None,
        action="case.resolved",
        object_type="case",
        object_id=case.id,
        before=before,
        after=case_snapshot(case),
        note=resolution,
    )
    account = await get_account(session, case.account_id)
    await _sync_account_status(session, account=account, now=now)
    await _notify(
        session,
        case,
        account=account,
        kind="case.resolved",
        audience=_responsible_and_managers,
        now=now,
        policy=policy,
        extra={"resolution": resolution},
    )


async def resolve_by_hand(
    session: AsyncSession,
    *,
    case_id: int,
    actor: Actor,
    reason: str | None,
    now: datetime,
    policy: CasePolicy,
) -> Case:
    """An admin confirms a by-hand case fixed; monitored problems resolve themselves."""
    if not can_decide_case(actor):
        raise PermissionDenied(N_("只有管理员可以确认整改完成。"))
    case = await get_case(session, case_id)
    if case.kind != CaseKind.MANUAL:
        raise StaleAction(N_("该整改由监测自动确认，账号恢复更新或问题消除后自动办结。"))
    if case.status not in ACTIVE_STATUSES:
        raise StaleAction(N_("该整改已办结。"))
    why = validate_reason(reason, label=N_("整改完成情况"))
    await resolve(session, case=case, resolution=why, now=now, policy=policy, actor=actor)
    return case


async def resolve_dormant(
    session: AsyncSession, *, account_id: int, now: datetime, policy: CasePolicy
) -> int:
    """The account posted again: its dormancy case is rectified."""
    case = (
        await session.exec(
            select(Case).where(Case.active_key == active_key(account_id, CaseKind.DORMANT))
        )
    ).first()
    if case is None:
        return 0
    await resolve(
        session,
        case=case,
        resolution=RESOLVED_POSTED,
        now=now,
        policy=policy,
    )
    return 1


async def resolve_fixed_findings(
    session: AsyncSession, *, account_id: int, now: datetime, policy: CasePolicy
) -> int:
    """Cases whose every covered finding is no longer open (gone, or waived by an admin)."""
    rows = list(
        await session.exec(
            select(Case).where(
                Case.account_id == account_id,
                col(Case.status).in_(ACTIVE_VALUES),
                col(Case.kind).in_([CaseKind.CONTENT, CaseKind.MANUAL]),
            )
        )
    )
    done = 0
    for case in rows:
        ids = [p["finding_id"] for p in case.problems if p.get("kind") == "finding"]
        if not ids or any(p.get("kind") != "finding" for p in case.problems):
            continue  # a written problem needs an admin's confirmation
        keys = list(
            await session.exec(
                select(StoredFinding.account_key).where(col(StoredFinding.id).in_(ids))
            )
        )
        still = await session.exec(
            select(func.count())
            .select_from(StoredFinding)
            .where(
                StoredFinding.account_id == account_id,
                col(StoredFinding.account_key).in_(keys),
                StoredFinding.status == FindingStatus.OPEN,
            )
        )
        if int(still.one()) == 0:
            await resolve(
                session,
                case=case,
                resolution=RESOLVED_FINDINGS,
                now=now,
                policy=policy,
            )
            done += 1
    return done


async def sweep(session: AsyncSession, *, now: datetime, policy: CasePolicy) -> tuple[int, int]:
    """The scheduled pass: resolve content cases whose findings are gone, escalate the late."""
    ids = set(
        await session.exec(
            select(Case.account_id).where(
                col(Case.status).in_(ACTIVE_VALUES), Case.kind != CaseKind.DORMANT
            )
        )
    )
    await end_with_closed_accounts(session, now=now)
    resolved = 0
    for account_id in sorted(ids):
        resolved += await resolve_fixed_findings(
            session, account_id=account_id, now=now, policy=policy
        )
    return resolved, await escalate_due(session, now=now, policy=policy)


async def end_with_closed_accounts(session: AsyncSession, *, now: datetime) -> int:
    """An account closed or cancelled another way (the card's 关停/注销) ends its cases."""
    rows = list(
        await session.exec(
            select(Case)
            .join(Account, col(Account.id) == Case.account_id)
            .where(
                col(Case.status).in_(ACTIVE_VALUES),
                col(Account.status).in_([AccountStatus.CLOSED, AccountStatus.CANCELLED]),
            )
        )
    )
    for case in rows:
        before = case_snapshot(case)
        case.status, case.active_key, case.closed_at = CaseStatus.CLOSED, None, now
        await _save(session, case, now=now)
        await audit.record(
            session,
            at=now,
            actor_id=None,
            action="case.closed",
            object_type="case",
            object_id=case.id,
            before=before,
            after=case_snapshot(case),
            note="account closed",
        )
    return len(rows)


# --- helpers ------------------------------------------------------------------------------------


def _check_version(case: Case, version: int | None) -> None:
    if version is not None and case.version != version:
        raise StaleAction(N_("该整改已有新的进展，请重新打开后再操作。"))


async def _save(session: AsyncSession, case: Case, *, now: datetime) -> None:
    case.updated_at = now
    case.version += 1
    session.add(case)
    await session.flush()


async def _sync_account_status(session: AsyncSession, *, account: Account, now: datetime) -> None:
    """在用 while no case is active, 整改中 while one is (a system move, audited)."""
    active = int(
        (
            await session.exec(
                select(func.count())
                .select_from(Case)
                .where(Case.account_id == account.id, col(Case.status).in_(ACTIVE_VALUES))
            )
        ).one()
    )
    current = account.status
    if active and current is AccountStatus.ACTIVE:
        target = AccountStatus.RECTIFYING
    elif not active and current is AccountStatus.RECTIFYING:
        target = AccountStatus.ACTIVE
    else:
        return
    before = snapshot(account)
    account.status, account.status_reason = target.value, None
    account.updated_at, account.version = now, account.version + 1
    session.add(account)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=None,
        action=f"account.{target.value}",
        object_type="account",
        object_id=account.id,
        before=before,
        after=snapshot(account),
        note="整改" if target is AccountStatus.RECTIFYING else "整改办结",
    )


def _local(moment: datetime, policy: CasePolicy) -> str:
    return moment.astimezone(policy.tz).strftime("%Y-%m-%d %H:%M")


def deadline_text(moment: datetime, tz: ZoneInfo) -> str:
    """A deadline at local midnight reads as the day it ends (24:00 of 01-12 → 2026-01-12)."""
    local = moment.astimezone(tz)
    if (local.hour, local.minute) == (0, 0):
        return (local - timedelta(minutes=1)).strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M")


_responsible = frozenset({Audience.RESPONSIBLE})
_managers = frozenset({Audience.UNIT_MANAGERS})
_office = frozenset({Audience.ADMINS})
_responsible_and_managers = frozenset({Audience.RESPONSIBLE, Audience.UNIT_MANAGERS})


async def _notify(
    session: AsyncSession,
    case: Case,
    *,
    account: Account,
    kind: str,
    audience: frozenset[Audience],
    now: datetime,
    policy: CasePolicy,
    extra: dict[str, Any] | None = None,
    stamp: datetime | None = None,
    fallback: frozenset[Audience] | None = None,
) -> int:
    """Queue ``kind`` for the audience, once per case, level and ``stamp`` (dedup keys)."""
    chats = await recipients.audience_chats(
        session, account=account, audience=audience, alert_chat_id=policy.alert_chat_id
    )
    if not chats and fallback:
        chats = await recipients.audience_chats(
            session, account=account, audience=fallback, alert_chat_id=policy.alert_chat_id
        )
    unit = await session.get(Unit, account.unit_id)
    params = {
        "case_id": case.id,
        "version": case.version,
        "account_id": account.id,
        "name": account.name,
        "platform": account.platform,
        "unit": unit.name if unit else "",
        "kind": case.kind,
        "level": case.level,
        "problems": case.problems[:5],
        "more": max(0, len(case.problems) - 5),
        "deadline": deadline_text(case.deadline, policy.tz),
        **(extra or {}),
    }
    suffix = stamp.strftime("%Y%m%d%H%M%S") if stamp else "-"
    queued = 0
    for chat_id in chats:
        row = await outbox.enqueue(
            session,
            chat_id=chat_id,
            kind=kind,
            params=params,
            now=now,
            dedup_key=f"{kind}:{case.id}:{case.level}:{suffix}:{chat_id}"[:200],
        )
        queued += row is not None
    return queued
