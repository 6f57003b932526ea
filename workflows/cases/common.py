"""What the case workflows share: version checks, saving with an audit row, the account's
整改中 status, and telling the audiences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.cases import (
    CasePolicy,
)
from governance.errors import StaleAction
from governance.i18n import N_
from governance.registry import (
    AccountStatus,
)
from models import audit
from models.accounts import Account, snapshot
from models.cases import (
    ACTIVE_VALUES,
    Case,
    deadline_text,
)
from models.feedstate import follow_accounts
from models.people import Unit
from workflows.audience import To
from workflows.notices import (
    CaseNotice,
)
from workflows.notify import notify

# --- helpers ------------------------------------------------------------------------------------


def check_version(case: Case, version: int | None) -> None:
    if version is not None and case.version != version:
        raise StaleAction(N_("该整改已有新的进展，请重新打开后再操作。"))


async def save_case(session: AsyncSession, case: Case, *, now: datetime) -> None:
    case.updated_at = now
    case.version += 1
    session.add(case)
    await session.flush()


async def sync_account_status(session: AsyncSession, *, account: Account, now: datetime) -> None:
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
    account.status, account.status_reason = target, None
    account.updated_at, account.version = now, account.version + 1
    session.add(account)
    await session.flush()
    await follow_accounts(session, [(account.id, account.feed_url, account.status)], now=now)
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


def local_time(moment: datetime, policy: CasePolicy) -> str:
    return moment.astimezone(policy.tz).strftime("%Y-%m-%d %H:%M")


RESPONSIBLE = frozenset({Audience.RESPONSIBLE})
MANAGERS = frozenset({Audience.UNIT_MANAGERS})
OFFICE = frozenset({Audience.OFFICE})
RESPONSIBLE_AND_MANAGERS = frozenset({Audience.RESPONSIBLE, Audience.UNIT_MANAGERS})


async def tell(
    session: AsyncSession,
    case: Case,
    *,
    account: Account,
    notice: type[CaseNotice],
    audience: frozenset[Audience],
    now: datetime,
    policy: CasePolicy,
    extra: dict[str, Any] | None = None,
    stamp: datetime | None = None,
    fallback: frozenset[Audience] = frozenset(),
) -> int:
    """Queue ``notice`` for the audience, once per case, level and ``stamp`` (dedup keys)."""
    unit = await session.get(Unit, account.unit_id)
    made = notice(
        case_id=case.id or 0,
        version=case.version,
        account_id=account.id or 0,
        name=account.name,
        platform=account.platform,
        unit=unit.name if unit else "",
        case_kind=case.kind,
        level=case.level,
        problems=case.problems[:5],
        more=max(0, len(case.problems) - 5),
        deadline=deadline_text(case.deadline, policy.tz),
        stamp=stamp.strftime("%Y%m%d%H%M%S") if stamp else "-",
        **(extra or {}),
    )
    return await notify(
        session,
        made,
        to=To(audience=audience, account=account, fallback=fallback),
        now=now,
        alert_chat_id=policy.alert_chat_id,
    )
