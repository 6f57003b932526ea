"""Ending cases: resolved by monitoring or by hand, swept when their problems are gone, ended
with a closed account."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.cases import (
    ACTIVE_STATUSES,
    CaseKind,
    CasePolicy,
    CaseStatus,
    can_decide_case,
    check_case_transition,
)
from governance.errors import PermissionDenied, StaleAction
from governance.i18n import N_
from governance.registry import (
    AccountStatus,
    validate_reason,
)
from governance.roles import Actor
from models import audit
from models.accounts import Account, get_account
from models.cases import (
    ACTIVE_VALUES,
    RESOLVED_FINDINGS,
    RESOLVED_POSTED,
    RESOLVED_WEBSITE,
    Case,
    active_key,
    case_snapshot,
    get_case,
)
from models.findings import FindingStatus, StoredFinding
from workflows.cases.common import (
    RESPONSIBLE_AND_MANAGERS,
    save_case,
    sync_account_status,
    tell,
)
from workflows.cases.handling import escalate_due
from workflows.notices import (
    CaseResolved,
)

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
    await save_case(session, case, now=now)
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
    await sync_account_status(session, account=account, now=now)
    await tell(
        session,
        case,
        account=account,
        notice=CaseResolved,
        audience=RESPONSIBLE_AND_MANAGERS,
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


async def resolve_website(
    session: AsyncSession, *, account_id: int, now: datetime, policy: CasePolicy
) -> int:
    """No website veto rule fails any more: the website's case is rectified."""
    case = (
        await session.exec(
            select(Case).where(Case.active_key == active_key(account_id, CaseKind.WEBSITE))
        )
    ).first()
    if case is None:
        return 0
    await resolve(session, case=case, resolution=RESOLVED_WEBSITE, now=now, policy=policy)
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
        await save_case(session, case, now=now)
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
