"""Scheduled review work: reminders and escalation, expiry, and routes that someone's leaving
made unsatisfiable. Each opens its own session and commits once; messages go to the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.roles import Role
from models import outbox, people, review_flow, routes
from models.accounts import Account

if TYPE_CHECKING:
    from bot.settings import Settings


async def review_reminders(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """Half-time and deadline reminders, escalation past the deadline; stuck stages retried."""
    async with sessionmaker() as session:
        queued = await review_flow.remind_due(
            session,
            now=clock.now(),
            tz=settings.tz,
            escalate_after=timedelta(hours=settings.review_escalate_after_hours),
            alert_chat_id=settings.alert_chat_id,
        )
        await session.commit()
    if queued:
        logger.info("review reminders: {} queued", queued)
    return queued


async def review_expiry(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> list[str]:
    async with sessionmaker() as session:
        expired = await review_flow.expire_due(session, now=clock.now(), tz=settings.tz)
        await session.commit()
    if expired:
        logger.info("reviews expired: {}", ", ".join(expired))
    return expired


async def review_route_check(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """Tell the unit's managers and the admins, once a day, about routes nobody can staff."""
    now = clock.now()
    day = now.astimezone(settings.tz).date().isoformat()
    queued = 0
    async with sessionmaker() as session:
        for route in await routes.all_routes(session):
            problem = await routes.route_problem(session, route)
            if problem is None:
                continue
            unit = await people.get_unit(session, route.unit_id)
            scope = unit.name
            if route.account_id is not None:
                account = await session.get(Account, route.account_id)
                scope = f"{unit.name} / {account.name if account else route.account_id}"
            recipients = {
                u.id: u
                for u in [
                    *await people.users_with_role(
                        session, role=Role.UNIT_MANAGER, unit_id=route.unit_id
                    ),
                    *await people.users_with_role(session, role=Role.ADMIN),
                ]
            }
            for user in recipients.values():
                queued += (
                    await outbox.enqueue(
                        session,
                        chat_id=user.telegram_id,
                        kind="review.route_broken",
                        params={
                            "scope": scope,
                            "why": problem.message,
                            "why_params": problem.params,
                        },
                        now=now,
                        dedup_key=f"review.route_broken:{route.id}:{route.version}:{day}:{user.id}",
                    )
                    is not None
                )
        await session.commit()
    return queued
