"""Invitations (邀请): created by a manager, listed, revoked, and accepted once by the person they
name; split from :mod:`models.people`, which holds the tables and the people themselves."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import Conflict, NotFound, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.roles import Actor, Role, invitable_roles
from models import audit
from models.people import Invitation, User, UserRole, actor_for, get_unit, person_snapshot, roles_of


async def create_invitation(
    session: AsyncSession,
    *,
    actor: Actor,
    unit_id: int | None,
    role: Role,
    ttl: timedelta,
    now: datetime,
    person_name: str | None = None,
) -> Invitation:
    """A one-time link into ``unit_id`` with ``role``; ``person_name`` says whom it is for."""
    if role not in invitable_roles(actor, unit_id):
        raise PermissionDenied(N_("你不能邀请该角色加入这个单位。"))
    if unit_id is not None:
        await get_unit(session, unit_id)
    invitation = Invitation(
        token=secrets.token_urlsafe(18),  # 24 url-safe chars: fits a /start deep link
        unit_id=unit_id,
        role=role,
        created_by=actor.user_id,
        created_at=now,
        expires_at=now + ttl,
        person_name=person_name,
    )
    session.add(invitation)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="invitation.created",
        object_type="invitation",
        object_id=invitation.id,
        after={
            "unit_id": unit_id,
            "role": role.value,
            "expires_at": invitation.expires_at.isoformat(),
            "person_name": person_name,
        },
    )
    return invitation


async def list_open_invitations(
    session: AsyncSession, *, actor: Actor, now: datetime
) -> list[Invitation]:
    stmt = (
        select(Invitation)
        .where(
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
            Invitation.expires_at > now,
        )
        .order_by(col(Invitation.id).desc())
        .limit(30)
    )
    if not actor.is_admin:
        stmt = stmt.where(Invitation.unit_id == actor.unit_id)
    return list(await session.exec(stmt))


async def revoke_invitation(
    session: AsyncSession, *, invitation_id: int, actor: Actor, now: datetime
) -> Invitation:
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound(N_("找不到该邀请。"))
    if not (
        actor.is_admin
        or actor.user_id == invitation.created_by
        or actor.manages(invitation.unit_id)
    ):
        raise PermissionDenied(N_("你不能撤销这条邀请。"))
    result = await session.exec(
        sa.update(Invitation)
        .where(
            col(Invitation.id) == invitation_id,
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    if result.rowcount != 1:
        raise StaleAction(N_("该邀请已被使用或已撤销。"))
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="invitation.revoked",
        object_type="invitation",
        object_id=invitation_id,
    )
    await session.refresh(invitation)
    return invitation


async def accept_invitation(
    session: AsyncSession, *, token: str, user: User, now: datetime
) -> Invitation:
    """Join the invitation's unit with its role; a token works once, before it expires."""
    token = token.strip()
    invitation = (await session.exec(select(Invitation).where(Invitation.token == token))).first()
    if invitation is None:
        raise NotFound(N_("邀请链接无效，请向邀请人索取新的链接。"))
    if invitation.revoked_at is not None:
        raise StaleAction(N_("该邀请已被撤销，请向邀请人索取新的链接。"))
    if invitation.used_at is not None:
        if invitation.used_by == user.id:
            raise StaleAction(N_("你已通过该邀请加入，无需重复操作。"))
        raise StaleAction(N_("该邀请链接已被使用，每个链接只能使用一次。"))
    if invitation.expires_at <= now:
        raise StaleAction(N_("该邀请已过期，请向邀请人索取新的链接。"))
    if not user.active:
        raise PermissionDenied(N_("你的账号已被停用，请联系管理员。"))
    if invitation.unit_id is not None and user.unit_id not in (None, invitation.unit_id):
        raise Conflict(N_("你已属于其他单位，如需调整请联系管理员。"))
    inviter = await session.get(User, invitation.created_by)
    if inviter is None or invitation.role not in invitable_roles(
        await actor_for(session, inviter), invitation.unit_id
    ):  # the inviter lost the right since: the link dies with it
        raise StaleAction(N_("邀请人已无权发出该邀请，请向单位管理员索取新的链接。"))
    result = await session.exec(
        sa.update(Invitation)
        .where(
            col(Invitation.id) == invitation.id,
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(used_at=now, used_by=user.id)
    )
    if result.rowcount != 1:
        raise StaleAction(N_("该邀请链接已被使用，每个链接只能使用一次。"))
    assert user.id is not None
    roles = await roles_of(session, user.id)
    before = person_snapshot(user, roles)
    if invitation.unit_id is not None and user.unit_id != invitation.unit_id:
        user.unit_id, user.updated_at = invitation.unit_id, now
        session.add(user)
        await session.flush()
    role = invitation.role
    if role not in roles:
        session.add(UserRole(user_id=user.id, role=role))
        await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=user.id,
        action="invitation.accepted",
        object_type="user",
        object_id=user.id,
        before=before,
        after=person_snapshot(user, roles | {role}),
        note=f"invitation {invitation.id}",
    )
    await session.refresh(invitation)
    return invitation


def invitation_state(invitation: Invitation, now: datetime) -> str:
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.used_at is not None:
        return "used"
    if invitation.expires_at <= now:
        return "expired"
    return "open"
