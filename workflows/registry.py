"""Registry workflows: registering, approving and changing accounts, and who is told.

Each function is one user action: the state change (``models.accounts`` checks permissions
and writes the audit row) and the notices it causes, in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.errors import Conflict
from governance.i18n import N_
from governance.registry import AccountStatus, Platform
from governance.roles import Actor
from models import accountchanges, accounts
from models.accounts import Account, AccountDraft
from models.people import Unit, User
from workflows.audience import To
from workflows.notices import (
    AccountStatusChanged,
    RegistrationDecided,
    RegistrationPending,
    ResponsibleAssigned,
)
from workflows.notify import enqueue, notify


async def summary_fields(session: AsyncSession, account: Account) -> dict[str, Any]:
    """The account as a registration notice shows it, fixed when the notice is queued."""
    unit = await session.get(Unit, account.unit_id)
    responsible, _pending = await accounts.responsible_of(session, account)
    return {
        "account_id": account.id or 0,
        "version": account.version,
        "name": account.name,
        "platform": account.platform,
        "platform_ref": account.platform_ref,
        "unit": unit.name if unit else "",
        "responsible": responsible.name if responsible else "",
        "posts_per_week": account.posts_per_week,
        "necessity": account.necessity,
        "operating_plan": account.operating_plan,
        "feed_url": account.feed_url or "",
        "duplicate_reason": account.duplicate_reason or "",
    }


async def _tell_responsible(
    session: AsyncSession, account: Account, *, actor_id: int | None, now: datetime
) -> None:
    """The (new) responsible person learns they answer for the account, unless they acted."""
    responsible, _pending = await accounts.responsible_of(session, account)
    if responsible is None or responsible.id == actor_id:
        return
    fields = await summary_fields(session, account)
    await enqueue(
        session,
        ResponsibleAssigned(**fields, responsible_id=responsible.id or 0),
        chat_id=responsible.telegram_id,
        now=now,
    )


async def register(
    session: AsyncSession,
    *,
    actor: Actor,
    applicant: User,
    draft: AccountDraft,
    now: datetime,
    submission_key: str | None = None,
) -> Account:
    """File a registration: an admin's is active at once, a manager's waits for an admin.

    The database's unique index decides a race between two registrations of one platform id:
    the loser's transaction is rolled back and they hear which account holds the id.
    """
    try:
        account = await accounts.register_account(
            session, actor=actor, draft=draft, now=now, submission_key=submission_key
        )
    except IntegrityError as exc:
        if not accounts.holds_live_ref(exc):
            raise  # e.g. the same submission pressed twice: the caller says so
        await session.rollback()  # the failed flush left nothing usable; the winner is committed
        other = await accounts.find_by_platform_ref(
            session, platform=Platform(draft.platform), platform_ref=draft.platform_ref
        )
        if other is not None and submission_key and other.submission_key == submission_key:
            raise  # not a rival: this very form, confirmed twice
        if other is not None:
            raise Conflict(
                N_("该平台账号已登记为“{name}”（编号 {id}），同一平台账号不能重复登记。"),
                name=other.name,
                id=other.id,
            ) from None
        raise Conflict(N_("该平台账号刚刚已被登记，同一平台账号不能重复登记。")) from None
    if account.status == AccountStatus.PENDING:
        fields = await summary_fields(session, account)
        await notify(
            session,
            RegistrationPending(**fields, applicant=applicant.name),
            to=To.of(Audience.EACH_ADMIN, exclude=actor.user_id),
            now=now,
        )
    else:
        await _tell_responsible(session, account, actor_id=actor.user_id, now=now)
    return account


async def decide_registration(
    session: AsyncSession,
    *,
    account_id: int,
    approve: bool,
    actor: Actor,
    decider: User,
    now: datetime,
    reason: str | None = None,
    version: int | None = None,
) -> Account:
    """An admin approves or rejects; the applicant and (on approval) the responsible hear."""
    account = await accountchanges.decide_registration(
        session,
        account_id=account_id,
        approve=approve,
        actor=actor,
        now=now,
        reason=reason,
        version=version,
    )
    approved = account.status != AccountStatus.REJECTED
    applicant = await session.get(User, account.created_by)
    if applicant is not None and applicant.id != decider.id:
        await enqueue(
            session,
            RegistrationDecided(
                account_id=account.id or 0,
                name=account.name,
                approved=approved,
                decider=decider.name,
                reason=account.status_reason or "",
            ),
            chat_id=applicant.telegram_id,
            now=now,
        )
    if approved:
        await _tell_responsible(session, account, actor_id=decider.id, now=now)
    return account


async def change_responsible(
    session: AsyncSession,
    *,
    account_id: int,
    user_id: int,
    actor: Actor,
    now: datetime,
    version: int | None = None,
) -> Account:
    before = await accounts.get_account(session, account_id)
    previous = before.responsible_id
    account = await accountchanges.change_responsible(
        session, account_id=account_id, user_id=user_id, actor=actor, now=now, version=version
    )
    if account.responsible_id != previous:
        await _tell_responsible(session, account, actor_id=None, now=now)
    return account


async def change_status(
    session: AsyncSession,
    *,
    account_id: int,
    target: AccountStatus,
    actor: Actor,
    who: User,
    now: datetime,
    reason: str | None = None,
    version: int | None = None,
) -> Account:
    """Suspend, resume, close or cancel; the responsible person hears unless they acted."""
    account = await accountchanges.change_status(
        session,
        account_id=account_id,
        target=target,
        actor=actor,
        now=now,
        reason=reason,
        version=version,
    )
    responsible, _pending = await accounts.responsible_of(session, account)
    if responsible is not None and responsible.id != who.id:
        await enqueue(
            session,
            AccountStatusChanged(
                account_id=account.id or 0,
                version=account.version,
                name=account.name,
                status=account.status,
                reason=account.status_reason or "",
                who=who.name,
            ),
            chat_id=responsible.telegram_id,
            now=now,
        )
    return account
