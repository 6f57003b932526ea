"""Review routes (审核流程) per unit with per-account overrides, and delegations of approvers."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import InvalidInput, NotFound, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.review import StageSpec, check_delegate, check_staffing, stages_from
from governance.roles import Actor, can_edit_routes
from models import audit
from models.accounts import Account
from models.base import UTCDateTime
from models.people import Unit, User, actor_for, users_with_role

DELEGATION_MAX_DAYS = 60


class ReviewRoute(SQLModel, table=True):
    __tablename__ = "review_routes"

    id: int | None = Field(default=None, primary_key=True)
    scope_key: str = Field(max_length=32, unique=True)  # "u:<unit>" or "a:<account>"
    unit_id: int = Field(foreign_key="units.id", index=True)
    account_id: int | None = Field(default=None, foreign_key="accounts.id")
    stages: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)
    restart_from_first: bool = True
    require_review: bool = True
    version: int = 1
    updated_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(sa_type=UTCDateTime())

    @property
    def specs(self) -> list[StageSpec]:
        return stages_from(self.stages)


class Delegation(SQLModel, table=True):
    __tablename__ = "review_delegations"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    delegate_id: int = Field(foreign_key="users.id")
    starts_at: datetime = Field(sa_type=UTCDateTime())
    ends_at: datetime = Field(sa_type=UTCDateTime())
    created_at: datetime = Field(sa_type=UTCDateTime())
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


def scope_key(unit_id: int, account_id: int | None) -> str:
    return f"a:{account_id}" if account_id is not None else f"u:{unit_id}"


def _snapshot(route: ReviewRoute) -> dict[str, Any]:
    return {
        "unit_id": route.unit_id,
        "account_id": route.account_id,
        "stages": route.stages,
        "restart_from_first": route.restart_from_first,
        "require_review": route.require_review,
    }


async def get_route(
    session: AsyncSession, *, unit_id: int, account_id: int | None = None
) -> ReviewRoute | None:
    stmt = select(ReviewRoute).where(ReviewRoute.scope_key == scope_key(unit_id, account_id))
    return (await session.exec(stmt)).first()


async def effective_route(session: AsyncSession, account: Account) -> ReviewRoute | None:
    """The account's own route if it has one, else its unit's."""
    own = await get_route(session, unit_id=account.unit_id, account_id=account.id)
    return own or await get_route(session, unit_id=account.unit_id)


async def account_overrides(session: AsyncSession, *, unit_id: int) -> list[ReviewRoute]:
    rows = await session.exec(
        select(ReviewRoute)
        .where(ReviewRoute.unit_id == unit_id, col(ReviewRoute.account_id).is_not(None))
        .order_by(col(ReviewRoute.id))
    )
    return list(rows)


async def stage_people(session: AsyncSession, *, spec: StageSpec, unit_id: int) -> frozenset[int]:
    """The active people of the unit a stage names (listed people who left are dropped)."""
    found: set[int] = set()
    if spec.approver_ids:
        rows = await session.exec(
            select(User.id).where(
                col(User.id).in_(spec.approver_ids),
                User.unit_id == unit_id,
                col(User.active).is_(True),
            )
        )
        found |= {int(i) for i in rows if i is not None}
    if spec.role is not None:
        found |= {
            u.id for u in await users_with_role(session, role=spec.role, unit_id=unit_id) if u.id
        }
    return frozenset(found)


async def check_route(
    session: AsyncSession,
    *,
    stages: list[StageSpec],
    unit_id: int,
    exclude: frozenset[int] = frozenset(),
) -> None:
    """Raise :class:`InvalidInput` when the stages cannot be staffed by different people."""
    people = [await stage_people(session, spec=s, unit_id=unit_id) for s in stages]
    check_staffing(stages, people, exclude=exclude)


async def save_route(
    session: AsyncSession,
    *,
    actor: Actor,
    unit_id: int,
    account_id: int | None,
    stages: list[StageSpec],
    restart_from_first: bool,
    require_review: bool,
    version: int | None,
    now: datetime,
) -> ReviewRoute:
    """Create or replace a route; refused unless it can be satisfied today."""
    if not can_edit_routes(actor, unit_id):
        raise PermissionDenied(N_("只有管理员和本单位管理员可以设置审核流程。"))
    if account_id is not None:
        account = await session.get(Account, account_id)
        if account is None or account.unit_id != unit_id:
            raise NotFound(N_("找不到该账号。"))
    await check_route(session, stages=stages, unit_id=unit_id)
    route = await get_route(session, unit_id=unit_id, account_id=account_id)
    stage_dicts = [s.to_dict() for s in stages]
    values = {
        "stages": stage_dicts,
        "restart_from_first": restart_from_first,
        "require_review": require_review,
    }
    if route is None:
        route = ReviewRoute(
            scope_key=scope_key(unit_id, account_id),
            unit_id=unit_id,
            account_id=account_id,
            updated_by=actor.user_id,
            created_at=now,
            updated_at=now,
            stages=stage_dicts,
            restart_from_first=restart_from_first,
            require_review=require_review,
        )
        session.add(route)
        await session.flush()
        await audit.record(
            session,
            at=now,
            actor_id=actor.user_id,
            action="route.created",
            object_type="review_route",
            object_id=route.id,
            after=_snapshot(route),
        )
        return route
    if version is not None and version != route.version:
        raise StaleAction(N_("审核流程已被他人修改，请重新打开 /routes 后再编辑。"))
    before = _snapshot(route)
    result = await session.exec(
        sa.update(ReviewRoute)
        .where(col(ReviewRoute.id) == route.id, col(ReviewRoute.version) == route.version)
        .values(**values, version=route.version + 1, updated_by=actor.user_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleAction(N_("审核流程已被他人修改，请重新打开 /routes 后再编辑。"))
    await session.refresh(route)
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="route.changed",
        object_type="review_route",
        object_id=route.id,
        before=before,
        after=_snapshot(route),
    )
    return route


async def delete_override(
    session: AsyncSession, *, actor: Actor, route_id: int, now: datetime
) -> None:
    """An account goes back to its unit's route."""
    route = await session.get(ReviewRoute, route_id)
    if route is None or route.account_id is None:
        raise NotFound(N_("找不到该账号的专用审核流程。"))
    if not can_edit_routes(actor, route.unit_id):
        raise PermissionDenied(N_("只有管理员和本单位管理员可以设置审核流程。"))
    before = _snapshot(route)
    await session.delete(route)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="route.deleted",
        object_type="review_route",
        object_id=route_id,
        before=before,
    )


async def all_routes(session: AsyncSession) -> list[ReviewRoute]:
    return list(await session.exec(select(ReviewRoute).order_by(col(ReviewRoute.id))))


async def route_problem(session: AsyncSession, route: ReviewRoute) -> InvalidInput | None:
    """Why a saved route can no longer be satisfied (someone left), or None."""
    try:
        await check_route(session, stages=route.specs, unit_id=route.unit_id)
    except InvalidInput as exc:
        return exc
    return None


# --- delegation -----------------------------------------------------------------------------


async def units_above(session: AsyncSession, unit_id: int | None) -> list[int]:
    """The parents of ``unit_id``, nearest first (a cycle in bad data stops the walk)."""
    found: list[int] = []
    unit = await session.get(Unit, unit_id) if unit_id is not None else None
    while unit is not None and unit.parent_id is not None and unit.parent_id not in found:
        if unit.parent_id == unit_id:
            break
        found.append(unit.parent_id)
        unit = await session.get(Unit, unit.parent_id)
    return found


async def delegate_of(session: AsyncSession, *, user_id: int, now: datetime) -> User | None:
    """Who acts for ``user_id`` right now, if an active person was named for this period."""
    row = (
        await session.exec(
            select(Delegation)
            .where(
                Delegation.user_id == user_id,
                col(Delegation.revoked_at).is_(None),
                Delegation.starts_at <= now,
                Delegation.ends_at > now,
            )
            .order_by(col(Delegation.id).desc())
        )
    ).first()
    if row is None:
        return None
    delegate = await session.get(User, row.delegate_id)
    return delegate if delegate is not None and delegate.active else None


async def current_delegation(
    session: AsyncSession, *, user_id: int, now: datetime
) -> Delegation | None:
    return (
        await session.exec(
            select(Delegation)
            .where(
                Delegation.user_id == user_id,
                col(Delegation.revoked_at).is_(None),
                Delegation.ends_at > now,
            )
            .order_by(col(Delegation.id).desc())
        )
    ).first()


async def delegate(
    session: AsyncSession, *, actor: Actor, delegate_id: int, days: int, now: datetime
) -> Delegation:
    """Name a colleague of the same unit to approve in one's place for ``days`` days."""
    if not actor.active or actor.unit_id is None:
        raise PermissionDenied(N_("只有单位人员可以设置代审。"))
    if not 1 <= days <= DELEGATION_MAX_DAYS:
        raise InvalidInput(N_("代审期限为 1–{max} 天。"), max=DELEGATION_MAX_DAYS)
    other = await session.get(User, delegate_id)
    check_delegate(
        actor,
        await actor_for(session, other) if other is not None else None,
        units_above=await units_above(session, actor.unit_id),
    )
    await end_delegation(session, actor=actor, now=now, quiet=True)
    row = Delegation(
        user_id=actor.user_id,
        delegate_id=delegate_id,
        starts_at=now,
        ends_at=now + timedelta(days=days),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="delegation.created",
        object_type="user",
        object_id=actor.user_id,
        after={"delegate_id": delegate_id, "ends_at": row.ends_at.isoformat()},
    )
    return row


async def end_delegation(
    session: AsyncSession, *, actor: Actor, now: datetime, quiet: bool = False
) -> Delegation | None:
    """Revoke the current delegation (the ended row is returned, None if there was none)."""
    row = await current_delegation(session, user_id=actor.user_id, now=now)
    if row is None:
        if quiet:
            return None
        raise StaleAction(N_("你当前没有代审安排。"))
    row.revoked_at = now
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="delegation.ended",
        object_type="user",
        object_id=actor.user_id,
        before={"delegate_id": row.delegate_id},
    )
    return row
