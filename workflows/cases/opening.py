"""Opening rectification cases: by monitoring (dormant, veto findings) or by hand."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.cases import (
    CaseKind,
    CasePolicy,
    CaseStatus,
    Level,
    can_open_case,
)
from governance.errors import PermissionDenied, StaleAction
from governance.i18n import N_
from governance.registry import (
    validate_text,
)
from governance.roles import Actor
from models import audit
from models.accounts import Account, get_account
from models.cases import (
    CASE_ACCOUNT_STATUSES,
    Case,
    active_key,
    case_snapshot,
    finding_problem,
    problem_id,
)
from models.findings import FindingStatus, StoredFinding
from workflows.cases.common import (
    MANAGERS,
    RESPONSIBLE,
    save_case,
    sync_account_status,
    tell,
)
from workflows.notices import (
    CaseOpened,
)

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
        known = {problem_id(p) for p in existing.problems}
        added = [dict(p) for p in problems if problem_id(p) not in known]
        if added:
            before = case_snapshot(existing)
            existing.problems = [*existing.problems, *added]
            await save_case(session, existing, now=now)
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
        kind=kind.value,
        active_key=key,
        problems=[dict(p) for p in problems],
        description=description,
        responsible_id=account.responsible_id,
        status=CaseStatus.OPEN.value,
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
    await sync_account_status(session, account=account, now=now)
    await tell(
        session,
        case,
        account=account,
        notice=CaseOpened,
        audience=RESPONSIBLE,
        fallback=MANAGERS,  # while the named person has not joined, the unit hears
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
        StoredFinding.status == FindingStatus.OPEN.value,
    )
    if severities is not None:
        stmt = stmt.where(col(StoredFinding.severity).in_(list(severities)))
    seen: dict[str, dict[str, Any]] = {}
    for row in await session.exec(stmt.order_by(col(StoredFinding.id))):
        seen.setdefault(row.account_key, finding_problem(row))
    return list(seen.values())
