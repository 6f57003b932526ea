"""Seeding people and units straight into the database, for tests about something else.

The onboarding tests prove the chat path; other tests start from a known office instead of
replaying invitations every time. These call the same model functions the bot calls.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.roles import Role
from models import people
from models.accounts import AccountDraft, register_account
from models.people import Unit, User


async def seed_unit(sm: async_sessionmaker[AsyncSession], name: str, now: datetime) -> int:
    async with sm() as session:
        unit = Unit(name=name, created_at=now)
        session.add(unit)
        await session.commit()
        assert unit.id is not None
        return unit.id


async def seed_person(
    sm: async_sessionmaker[AsyncSession],
    *,
    telegram_id: int,
    name: str,
    unit_id: int | None,
    roles: tuple[Role, ...],
    now: datetime,
) -> int:
    async with sm() as session:
        user = User(
            telegram_id=telegram_id, name=name, unit_id=unit_id, created_at=now, updated_at=now
        )
        session.add(user)
        await session.flush()
        for role in roles:
            await people.grant_role(session, user=user, role=role, actor_id=None, now=now)
        await session.commit()
        assert user.id is not None
        return user.id


async def seed_account(
    sm: async_sessionmaker[AsyncSession],
    *,
    admin_telegram_id: int,
    unit_id: int,
    responsible_id: int,
    name: str,
    platform: str = "weibo",
    ref: str | None = None,
    feed_url: str | None = None,
    posts_per_week: int = 2,
    now: datetime,
) -> int:
    async with sm() as session:
        admin = await people.get_user_by_telegram_id(session, admin_telegram_id)
        assert admin is not None
        actor = await people.actor_for(session, admin)
        account = await register_account(
            session,
            actor=actor,
            draft=AccountDraft(
                platform=platform,
                name=name,
                platform_ref=ref or f"ref-{name}",
                unit_id=unit_id,
                responsible_id=responsible_id,
                posts_per_week=posts_per_week,
                necessity="发布政务信息，回应群众关切。",
                operating_plan="每周两条政务动态，办公室编辑，分管领导审核。",
                feed_url=feed_url,
                duplicate_reason="不同栏目分别运营（测试数据）",
            ),
            now=now,
        )
        await session.commit()
        assert account.id is not None
        return account.id
