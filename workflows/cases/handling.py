"""A case in progress: the responsible person's explanation, escalation when deadlines pass,
the unit's interview, an admin's extension, closing the account."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.cases import (
    ACTIVE_STATUSES,
    NOTE_MAX,
    CasePolicy,
    CaseStatus,
    Level,
    after_explanation,
    can_decide_case,
    can_explain,
    can_extend,
    can_record_interview,
    check_case_transition,
    decide_escalation,
    validate_explanation,
)
from governance.errors import PermissionDenied, StaleAction
from governance.i18n import N_
from governance.registry import (
    AccountStatus,
    validate_http_url,
    validate_reason,
    validate_text,
)
from governance.roles import Actor
from models import audit
from models.accountchanges import change_status
from models.accounts import get_account
from models.cases import (
    ACTIVE_VALUES,
    Case,
    case_snapshot,
    get_case,
)
from workflows.cases.common import (
    MANAGERS,
    OFFICE,
    RESPONSIBLE,
    RESPONSIBLE_AND_MANAGERS,
    check_version,
    local_time,
    save_case,
    tell,
)
from workflows.notices import (
    CaseClosed,
    CaseClosureRecommended,
    CaseExplained,
    CaseExtended,
    CaseInterviewed,
    CaseInterviewSuggested,
    CaseOverdue,
)

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
    case.status, case.explanation, case.explained_at = target, body, now
    await save_case(session, case, now=now)
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
    await tell(
        session,
        case,
        account=account,
        notice=CaseExplained,
        audience=OFFICE,
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
        case.status, case.level, case.deadline = step.status, int(step.level), step.deadline
        case.overdue_at = now
        await save_case(session, case, now=now)
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
        extra = {"missed": local_time(missed, policy)}
        if step.level is Level.MANAGER:
            await tell(
                session,
                case,
                account=account,
                notice=CaseInterviewSuggested,
                audience=MANAGERS,
                now=now,
                policy=policy,
                extra=extra,
                stamp=missed,
            )
            await tell(
                session,
                case,
                account=account,
                notice=CaseOverdue,
                audience=RESPONSIBLE,
                now=now,
                policy=policy,
                extra=extra,
                stamp=missed,
            )
        else:
            await tell(
                session,
                case,
                account=account,
                notice=CaseClosureRecommended,
                audience=OFFICE,
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
    await save_case(session, case, now=now)
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
    await tell(
        session,
        case,
        account=account,
        notice=CaseInterviewed,
        audience=OFFICE,
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
    check_version(case, version)
    if not can_extend(case.status, Level(min(case.level, Level.ADMINS))):
        raise StaleAction(N_("该整改当前不需要延期。"))
    check_case_transition(case.status, CaseStatus.OPEN)
    before = case_snapshot(case)
    case.status, case.deadline = CaseStatus.OPEN, policy.deadline(now, policy.extension_days)
    await save_case(session, case, now=now)
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
    await tell(
        session,
        case,
        account=account,
        notice=CaseExtended,
        audience=RESPONSIBLE_AND_MANAGERS,
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
    check_version(case, version)
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
        await save_case(session, row, now=now)
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
    await tell(
        session,
        case,
        account=account,
        notice=CaseClosed,
        audience=RESPONSIBLE_AND_MANAGERS,
        now=now,
        policy=policy,
        extra={"notice_url": url},
    )
    await session.refresh(case)
    return case
