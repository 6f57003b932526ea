"""People workflows: joining by invitation, roles, disabling, review delegation.

Each function is one user action and the notices it causes, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import PermissionDenied
from governance.i18n import N_
from governance.roles import Actor, Role
from models import accounts, invitations, people, routes
from models.accounts import Account
from models.people import Invitation, Unit, User
from models.routes import Delegation
from workflows.notices import ActiveChanged, Delegated, InvitationAccepted, RolesChanged
from workflows.notify import enqueue
from workflows.reviews.stages import hand_back


@dataclass(frozen=True, slots=True)
class Joined:
    invitation: Invitation
    unit: Unit | None
    claimed: list[Account]
    actor: Actor


async def accept_invitation(
    session: AsyncSession, *, token: str, user: User, now: datetime
) -> Joined:
    """Join by a one-time link; accounts waiting for this person become theirs; the inviter
    is told."""
    invitation = await invitations.accept_invitation(session, token=token, user=user, now=now)
    claimed = await accounts.claim_pending_accounts(
        session, invitation=invitation, user=user, now=now
    )
    unit = await session.get(Unit, invitation.unit_id) if invitation.unit_id else None
    inviter = await session.get(User, invitation.created_by)
    if inviter is not None:
        await enqueue(
            session,
            InvitationAccepted(
                invitation_id=invitation.id or 0,
                who=user.name,
                unit=unit.name if unit else "",
                role=invitation.role,
            ),
            chat_id=inviter.telegram_id,
            now=now,
        )
    actor = await people.actor_for(session, user)
    return Joined(invitation=invitation, unit=unit, claimed=claimed, actor=actor)


async def toggle_role(
    session: AsyncSession, *, target: User, role: Role, actor: Actor, who: User, now: datetime
) -> frozenset[Role]:
    """Grant the role if the person lacks it, else revoke it; the person is told."""
    if role in await people.roles_of(session, target.id or 0):
        await people.revoke_role(session, user=target, role=role, actor=actor, now=now)
    else:
        if role is not Role.ADMIN and target.unit_id is None:
            raise PermissionDenied(N_("该人员不属于任何单位，只能授予管理员角色。"))
        await people.grant_role(session, user=target, role=role, actor_id=actor.user_id, now=now)
    roles = await people.roles_of(session, target.id or 0)
    await enqueue(
        session,
        RolesChanged(who=who.name, roles=[r.value for r in roles]),
        chat_id=target.telegram_id,
        now=now,
    )
    return roles


async def set_active(
    session: AsyncSession, *, target: User, active: bool, actor: Actor, who: User, now: datetime
) -> None:
    await people.set_active(session, user=target, active=active, actor=actor, now=now)
    await enqueue(
        session, ActiveChanged(who=who.name, active=active), chat_id=target.telegram_id, now=now
    )


async def delegate(
    session: AsyncSession,
    *,
    actor: Actor,
    who: User,
    delegate_id: int,
    days: int,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[Delegation, User]:
    """Name a colleague who reviews in one's place; the colleague is told until when. Cards a
    previous delegate still held come back to oneself."""
    before = await routes.current_delegation(session, user_id=actor.user_id, now=now)
    row = await routes.delegate(session, actor=actor, delegate_id=delegate_id, days=days, now=now)
    other = await people.get_user(session, delegate_id)
    await enqueue(
        session,
        Delegated(
            delegation_id=row.id or 0,
            who=who.name,
            until=row.ends_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        ),
        chat_id=other.telegram_id,
        now=now,
    )
    if before is not None:
        await hand_back(session, principal=who, delegate_id=before.delegate_id, now=now, tz=tz)
    return row, other


async def end_delegation(
    session: AsyncSession, *, actor: Actor, who: User, now: datetime, tz: ZoneInfo
) -> int:
    """Revoke one's delegation; the cards the delegate has not decided come back to oneself.
    Returns how many came back."""
    row = await routes.end_delegation(session, actor=actor, now=now)
    assert row is not None  # not quiet: no current delegation raised
    return await hand_back(session, principal=who, delegate_id=row.delegate_id, now=now, tz=tz)
