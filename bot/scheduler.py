"""The one scheduler factory: APScheduler 3 in the bot's event loop, jobs with stable ids."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from governance.clock import Clock
from jobs.heartbeat import heartbeat
from jobs.reviews import review_expiry, review_reminders, review_route_check

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def build_scheduler(
    *, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> AsyncIOScheduler:
    """Every scheduled job, registered once; production and tests share this factory."""
    scheduler = AsyncIOScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    scheduler.add_job(
        heartbeat,
        "interval",
        minutes=settings.heartbeat_minutes,
        id="heartbeat",
        replace_existing=True,
        kwargs={"sessionmaker": sessionmaker, "clock": clock},
    )
    review_kwargs = {"sessionmaker": sessionmaker, "clock": clock, "settings": settings}
    for job_id, func, minutes in (
        ("review_reminders", review_reminders, settings.review_check_minutes),
        ("review_expiry", review_expiry, settings.review_check_minutes),
        ("review_route_check", review_route_check, 60),
    ):
        scheduler.add_job(
            func,
            "interval",
            minutes=minutes,
            id=job_id,
            replace_existing=True,
            kwargs=review_kwargs,
        )
    return scheduler
