"""Units, people, their roles, and invitations: who is who in the office."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import Conflict, NotFound, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.registry import clean_line, validate_unit_name
from governance.roles import Actor, Role
from models import audit
from models.base import EnumString, UTCDateTime
from models.paging import Cursor, Order, Page, keyset_page


class Unit(SQLModel, table=True):
    __tablename__ = "units"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    parent_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime())


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    telegram_id: int = Field(sa_type=sa.BigInteger(), unique=True)
    name: str = Field(max_length=128)
    username: str | None = Field(default=None, max_length=64)
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    active: bool = True
    locale: str = Field(default="zh_CN", max_length=8)
    # optional personal data, given by the person (/mobile) for @-mentions by group robots;
    # shown only masked (governance.robots.mask_mobile)
    mobile: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(sa_type=UTCDateTime())


class UserRole(SQLModel, table=True):
    __tablename__ = "user_roles"

    user_id: int = Field(foreign_key="users.id", primary_key=True)
    role: Role = Field(sa_type=EnumString(Role), primary_key=True)


class Invitation(SQLModel, table=True):
    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=64, unique=True)
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    role: Role = Field(sa_type=EnumString(Role))
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())
    used_by: int | None = Field(default=None, foreign_key="users.id")
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    person_name: str | None = Field(default=None, max_length=64)  # whom it is for, if known


# --- people -------------------------------------------------------------------------------


async def roles_of(session: AsyncSession, user_id: int) -> frozenset[Role]:
    rows = await session.exec(select(col(UserRole.role)).where(UserRole.user_id == user_id))
    return frozenset(rows)


async def actor_for(session: AsyncSession, user: User) -> Actor:
    assert user.id is not None
    return actor_with(user, await roles_of(session, user.id))


def actor_with(user: User, roles: frozenset[Role]) -> Actor:
    """The actor for ``user`` holding ``roles`` (already read)."""
    assert user.id is not None
    return Actor(user_id=user.id, unit_id=user.unit_id, roles=roles, active=user.active)


async def get_user_by_telegram_id(session: AsyncSession, telegram_id: int) -> User | None:
    return (await session.exec(select(User).where(User.telegram_id == telegram_id))).first()


async def person_by_telegram_id(
    session: AsyncSession, telegram_id: int
) -> tuple[User | None, frozenset[Role]]:
    """The person behind a Telegram id and their roles, in one statement (every update asks)."""
    rows = (
        await session.exec(
            select(User, col(UserRole.role))
            .outerjoin(UserRole, col(UserRole.user_id) == col(User.id))
            .where(User.telegram_id == telegram_id)
        )
    ).all()
    if not rows:
        return None, frozenset()
    return rows[0][0], frozenset(role for _, role in rows if role is not None)


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(N_("找不到该人员。"))
    return user


def person_snapshot(user: User, roles: frozenset[Role]) -> dict[str, object]:
    return {
        "telegram_id": user.telegram_id,
        "name": user.name,
        "unit_id": user.unit_id,
        "active": user.active,
        "roles": sorted(roles),
    }


async def upsert_person(
    session: AsyncSession,
    *,
    telegram_id: int,
    name: str,
    username: str | None,
    locale: str,
    now: datetime,
) -> tuple[User, bool]:
    """Find or create the person behind a Telegram id; keep name and locale fresh."""
    user = await get_user_by_telegram_id(session, telegram_id)
    given, name = name, _person_name(name, telegram_id)
    if user is None:
        user = User(
            telegram_id=telegram_id,
            name=name,
            username=(username or None),
            locale=locale,
            created_at=now,
            updated_at=now,
        )
        session.add(user)
        await session.flush()
        await audit.record(
            session,
            at=now,
            actor_id=user.id,
            action="user.created",
            object_type="user",
            object_id=user.id,
            after=person_snapshot(user, frozenset()),
            note="first contact",
        )
        return user, True
    if profile_changed(user, name=given, username=username, locale=locale):
        user.name, user.username, user.locale, user.updated_at = name, username, locale, now
        session.add(user)
        await session.flush()
    return user, False


def _person_name(name: str, telegram_id: int) -> str:
    return clean_line(name)[:128] or str(telegram_id)


def profile_changed(user: User, *, name: str, username: str | None, locale: str) -> bool:
    """Whether what Telegram says of the person differs from our row (``upsert_person``
    would write): checked first, so an unchanged person costs no write."""
    name = _person_name(name, user.telegram_id)
    return (user.name, user.username, user.locale) != (name, username, locale)


async def grant_role(
    session: AsyncSession,
    *,
    user: User,
    role: Role,
    actor_id: int | None,
    now: datetime,
    action: str = "user.role_granted",
) -> bool:
    """Give ``role`` to ``user``; returns False when they already had it."""
    assert user.id is not None
    before = await roles_of(session, user.id)
    if role in before:
        return False
    session.add(UserRole(user_id=user.id, role=role))
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action=action,
        object_type="user",
        object_id=user.id,
        before=person_snapshot(user, before),
        after=person_snapshot(user, before | {role}),
    )
    return True


async def revoke_role(
    session: AsyncSession, *, user: User, role: Role, actor: Actor, now: datetime
) -> bool:
    assert user.id is not None
    before = await roles_of(session, user.id)
    if role not in before:
        return False
    if role is Role.ADMIN and user.id == actor.user_id:
        raise PermissionDenied(N_("不能取消自己的管理员角色，请让另一位管理员操作。"))
    if role is Role.ADMIN and await _count_admins(session) <= 1:
        raise Conflict(N_("这是最后一位管理员，不能取消其管理员角色。"))
    await session.exec(
        sa.delete(UserRole).where(col(UserRole.user_id) == user.id, col(UserRole.role) == role)
    )
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="user.role_revoked",
        object_type="user",
        object_id=user.id,
        before=person_snapshot(user, before),
        after=person_snapshot(user, before - {role}),
    )
    return True


async def _count_admins(session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(UserRole)
        .join(User, col(User.id) == UserRole.user_id)
        .where(UserRole.role == Role.ADMIN, col(User.active).is_(True))
    )
    return int(result.one())


async def set_active(
    session: AsyncSession, *, user: User, active: bool, actor: Actor, now: datetime
) -> None:
    assert user.id is not None
    if user.active == active:
        raise StaleAction(N_("该人员已是此状态，无需重复操作。"))
    if not active and user.id == actor.user_id:
        raise PermissionDenied(N_("不能停用自己的账号。"))
    roles = await roles_of(session, user.id)
    if not active and Role.ADMIN in roles and await _count_admins(session) <= 1:
        raise Conflict(N_("这是最后一位管理员，不能停用。"))
    before = person_snapshot(user, roles)
    user.active, user.updated_at = active, now
    session.add(user)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="user.enabled" if active else "user.disabled",
        object_type="user",
        object_id=user.id,
        before=before,
        after=person_snapshot(user, roles),
    )


async def bootstrap_admin(
    session: AsyncSession, *, telegram_id: int, now: datetime, name: str | None = None
) -> tuple[User, bool]:
    """Make ``telegram_id`` an admin (from ``ADMIN_IDS`` or ``admin add``); idempotent."""
    user = await get_user_by_telegram_id(session, telegram_id)
    if user is None:
        user = User(
            telegram_id=telegram_id,
            name=name or str(telegram_id),
            created_at=now,
            updated_at=now,
        )
        session.add(user)
        await session.flush()
        await audit.record(
            session,
            at=now,
            actor_id=None,
            action="user.created",
            object_type="user",
            object_id=user.id,
            after=person_snapshot(user, frozenset()),
        )
    granted = await grant_role(
        session,
        user=user,
        role=Role.ADMIN,
        actor_id=None,
        now=now,
        action="user.admin_bootstrapped",
    )
    return user, granted


async def list_unit_users(
    session: AsyncSession, *, unit_id: int | None, include_inactive: bool = True
) -> list[tuple[User, frozenset[Role]]]:
    stmt = select(User).order_by(col(User.name))
    stmt = (
        stmt.where(User.unit_id == unit_id)
        if unit_id is not None
        else stmt.where(col(User.unit_id).is_(None))
    )
    if not include_inactive:
        stmt = stmt.where(col(User.active).is_(True))
    users = list(await session.exec(stmt))
    return [(u, await roles_of(session, u.id or 0)) for u in users]


async def users_with_role(
    session: AsyncSession, *, role: Role, unit_id: int | None = None
) -> list[User]:
    stmt = (
        select(User)
        .join(UserRole, col(UserRole.user_id) == User.id)
        .where(UserRole.role == role, col(User.active).is_(True))
        .order_by(col(User.id))
    )
    if unit_id is not None:
        stmt = stmt.where(User.unit_id == unit_id)
    return list(await session.exec(stmt))


# --- units --------------------------------------------------------------------------------


BY_ID = Order(
    key=col(Unit.id), id=col(Unit.id), key_of=lambda u: u.id or 0, id_of=lambda u: u.id or 0
)
USER_BY_ID = Order(
    key=col(User.id), id=col(User.id), key_of=lambda u: u.id or 0, id_of=lambda u: u.id or 0
)


async def unit_users_page(
    session: AsyncSession, *, unit_id: int | None, cursor: Cursor | None, size: int
) -> Page[tuple[User, frozenset[Role]]]:
    """A keyset page of a unit's people (None: people without a unit), with their roles."""
    stmt = select(User).where(
        User.unit_id == unit_id if unit_id is not None else col(User.unit_id).is_(None)
    )
    page = await keyset_page(session, stmt, order=USER_BY_ID, cursor=cursor, size=size)
    rows = [(u, await roles_of(session, u.id or 0)) for u in page.rows]
    return Page(rows=rows, total=page.total, before=page.before, first=page.first, last=page.last)


async def active_staff_page(
    session: AsyncSession, *, unit_id: int, cursor: Cursor | None, size: int
) -> Page[User]:
    """A keyset page of a unit's active people: whom a responsible-person picker offers."""
    stmt = select(User).where(User.unit_id == unit_id, col(User.active).is_(True))
    return await keyset_page(session, stmt, order=USER_BY_ID, cursor=cursor, size=size)


async def child_units(
    session: AsyncSession, *, parent_id: int | None, cursor: Cursor | None, size: int
) -> Page[Unit]:
    """A keyset page of the units directly under ``parent_id`` (None: the top level)."""
    stmt = select(Unit).where(
        Unit.parent_id == parent_id if parent_id is not None else col(Unit.parent_id).is_(None)
    )
    return await keyset_page(session, stmt, order=BY_ID, cursor=cursor, size=size)


async def units_page(session: AsyncSession, *, cursor: Cursor | None, size: int) -> Page[Unit]:
    """A keyset page of every unit (by id)."""
    return await keyset_page(session, select(Unit), order=BY_ID, cursor=cursor, size=size)


async def child_counts(session: AsyncSession, *, unit_ids: list[int]) -> dict[int, int]:
    """How many units sit directly under each of ``unit_ids`` (absent: none)."""
    if not unit_ids:
        return {}
    rows = await session.exec(
        select(col(Unit.parent_id), func.count())
        .where(col(Unit.parent_id).in_(unit_ids))
        .group_by(col(Unit.parent_id))
    )
    return {int(parent): int(n) for parent, n in rows if parent is not None}


async def unit_names(session: AsyncSession, *, unit_ids: set[int]) -> dict[int, str]:
    """The names of just these units (a page's), not of every unit."""
    if not unit_ids:
        return {}
    rows = await session.exec(select(Unit.id, Unit.name).where(col(Unit.id).in_(unit_ids)))
    return {int(uid or 0): name for uid, name in rows}


async def unit_named(session: AsyncSession, name: str) -> Unit | None:
    return (await session.exec(select(Unit).where(Unit.name == name))).first()


async def list_units(session: AsyncSession) -> list[Unit]:
    return list(await session.exec(select(Unit).order_by(col(Unit.name))))


async def get_unit(session: AsyncSession, unit_id: int) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(N_("找不到该单位。"))
    return unit


async def create_unit(
    session: AsyncSession, *, name: str, parent_id: int | None, actor: Actor, now: datetime
) -> Unit:
    if not actor.is_admin:
        raise PermissionDenied(N_("只有管理员可以新增单位。"))
    name = validate_unit_name(name)
    exists = (await session.exec(select(Unit).where(Unit.name == name))).first()
    if exists is not None:
        raise Conflict(N_("单位“{name}”已存在。"), name=name)
    if parent_id is not None:
        await get_unit(session, parent_id)
    unit = Unit(name=name, parent_id=parent_id, created_at=now)
    session.add(unit)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="unit.created",
        object_type="unit",
        object_id=unit.id,
        after={"name": name, "parent_id": parent_id},
    )
    return unit
