"""The one scheduler factory: APScheduler 3 in the bot's event loop, jobs with stable ids."""

from __future__ import annotations

from datetime import UTC

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from governance.clock import Clock
from jobs.checker import LiveChecker, refresh_checker
from jobs.heartbeat import heartbeat

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def build_scheduler(
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    live_checker: LiveChecker,
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
    scheduler.add_job(
        refresh_checker,
        "interval",
        minutes=1,
        id="refresh_checker",
        replace_existing=True,
        kwargs={"live": live_checker, "sessionmaker": sessionmaker},
    )
    return scheduler
