"""Scheduled review work: reminders and escalation, expiry, and routes that someone's leaving
made unsatisfiable. Each opens its own session and commits once; messages go to the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.clock import Clock
from models import people, routes
from models.accounts import Account
from workflows import reviews as review_flow
from workflows.audience import To
from workflows.notices import RouteBroken
from workflows.notify import notify

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
    """Tell the unit's managers and the office, once a day, about routes nobody can staff."""
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
            queued += await notify(
                session,
                RouteBroken(
                    route_id=route.id or 0,
                    route_version=route.version,
                    day=day,
                    scope=scope,
                    why=problem.message,
                    why_params=dict(problem.params),
                ),
                to=To.of(Audience.UNIT_MANAGERS, Audience.OFFICE, unit_id=route.unit_id),
                now=now,
                alert_chat_id=settings.alert_chat_id,
            )
        await session.commit()
    return queued
