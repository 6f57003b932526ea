"""The one scheduler factory: APScheduler 3 in the bot's event loop, jobs with stable ids."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, timedelta

import aiohttp
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import ReplicaDuties, Settings
from bot.singletons import (
    JobScheduler,
    SingletonExecutor,
    retry_abandoned_jobs,
    singleton_kwargs,
)
from feeds.parsing import FeedParser
from governance.clock import Clock
from jobs.cases import check_cases
from jobs.columns import watch_columns
from jobs.dead_links import check_dead_links
from jobs.digest import daily_digest, weekly_digest
from jobs.evaluate import evaluate_accounts
from jobs.heartbeat import heartbeat
from jobs.history_sweep import sweep_history
from jobs.poll import (
    expire_post_bodies,
    poll_feeds,
    prune_poll_history,
    reconcile_feed_states,
)
from jobs.polltypes import NewPostsHook
from jobs.registry import reconcile_account_tallies
from jobs.replicas import prune_handled_updates
from jobs.reposts import repost_reminders
from jobs.reviews import review_expiry, review_reminders, review_route_check
from jobs.slices import Replies
from jobs.websites import evaluate_websites, probe_websites
from workflows.checker import LiveChecker, refresh_checker

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}

#: Jobs whose every occurrence runs on one replica only (see :mod:`bot.singletons`); the
#: others (feed polling, the checker refresh, the heartbeat) run on every replica.
SINGLETONS = frozenset(
    {
        "evaluate_accounts",
        "check_cases",
        "daily_digest",
        "weekly_digest",
        "check_dead_links",
        "prune_poll_history",
        "reconcile_feed_states",
        "reconcile_account_tallies",
        "expire_post_bodies",
        "prune_handled_updates",
        "review_reminders",
        "review_expiry",
        "review_route_check",
        "watch_columns",
        "probe_websites",
        "evaluate_websites",
        "repost_reminders",
        "history_sweep",
    }
)


#: What a chat-only replica keeps of the schedule: its own upkeep (the heartbeat's log line,
#: the word lists its checker uses on drafts). Everything else runs on the jobs replicas.
CHAT_JOBS = frozenset({"heartbeat", "refresh_checker"})

#: How often the whole registry is compared with the poll state (a safety net: the write paths
#: keep it in step; ≈ 2 s of database time at a million accounts, once per tick before).
RECONCILE_MINUTES = 10


def build_scheduler(
    *,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    live_checker: LiveChecker | None = None,
    http: aiohttp.ClientSession | None = None,
    parser: FeedParser | None = None,
    rng: random.Random | None = None,
    hooks: Sequence[NewPostsHook] = (),
    replica: str = "local",
    duties: ReplicaDuties = ReplicaDuties.ALL,
    replies: Replies | None = None,
) -> JobScheduler:
    """Every scheduled job, registered once; production and tests share this factory.

    The feed poller needs the shared feed session and parser; without them (tools that only
    want the housekeeping jobs) it is left out. Singletons run once per occurrence across
    replicas (:data:`SINGLETONS`); their interval triggers start at one shared epoch. A
    chat-only replica (``duties``) keeps only :data:`CHAT_JOBS`.
    """
    lease = timedelta(seconds=settings.job_lease_seconds)
    executor = SingletonExecutor(
        sessionmaker=sessionmaker, clock=clock, replica=replica, lease=lease, singletons=SINGLETONS
    )
    scheduler = JobScheduler(executor=executor, timezone=UTC, job_defaults=JOB_DEFAULTS)
    common = {"replace_existing": True, "coalesce": True, "max_instances": 1}
    once = singleton_kwargs(**common)
    scheduler.add_job(
        retry_abandoned_jobs,
        "interval",
        seconds=max(1.0, lease.total_seconds() / 4),
        id="retry_abandoned_jobs",
        kwargs={"executor": executor},
        **common,
    )
    scheduler.add_job(
        heartbeat,
        "interval",
        minutes=settings.heartbeat_minutes,
        id="heartbeat",
        kwargs={"sessionmaker": sessionmaker, "clock": clock},
        **common,
    )
    if http is not None and parser is not None:
        scheduler.add_job(
            poll_feeds,
            "interval",
            seconds=settings.poll_tick_seconds,
            id="poll_feeds",
            kwargs={
                "sessionmaker": sessionmaker,
                "clock": clock,
                "settings": settings,
                "http": http,
                "parser": parser,
                "rng": rng or random.Random(),
                "hooks": tuple(hooks),
                "replies": replies,
            },
            **common,
        )
    if http is not None:
        scheduler.add_job(
            check_dead_links,
            "interval",
            minutes=settings.dead_link_minutes,
            id="check_dead_links",
            kwargs={
                "sessionmaker": sessionmaker,
                "clock": clock,
                "settings": settings,
                "http": http,
            },
            **once,
        )
    if http is not None:  # government websites: their pages and home page visits
        site_kwargs = {"sessionmaker": sessionmaker, "clock": clock, "settings": settings}
        scheduler.add_job(
            watch_columns,
            "interval",
            seconds=settings.website_column_tick_seconds,
            id="watch_columns",
            kwargs={
                **site_kwargs,
                "http": http,
                "rng": rng or random.Random(),
                "hooks": tuple(hooks),
            },
            **once,
        )
        scheduler.add_job(
            probe_websites,
            "interval",
            seconds=settings.website_probe_tick_seconds,
            id="probe_websites",
            kwargs={**site_kwargs, "http": http, "rng": rng or random.Random()},
            **once,
        )
    scheduler.add_job(
        evaluate_websites,
        "interval",
        minutes=settings.website_evaluate_minutes,
        id="evaluate_websites",
        kwargs={"sessionmaker": sessionmaker, "clock": clock, "settings": settings},
        **once,
    )
    scheduler.add_job(
        evaluate_accounts,
        "interval",
        minutes=settings.evaluate_minutes,
        id="evaluate_accounts",
        kwargs={
            "sessionmaker": sessionmaker,
            "clock": clock,
            "settings": settings,
            "replies": replies,
        },
        **once,
    )
    scheduler.add_job(
        check_cases,
        "interval",
        minutes=settings.case_check_minutes,
        id="check_cases",
        kwargs={"sessionmaker": sessionmaker, "clock": clock, "settings": settings},
        **once,
    )
    hour, minute = settings.digest_hour_minute
    digest = {"sessionmaker": sessionmaker, "clock": clock, "settings": settings}
    scheduler.add_job(
        daily_digest,
        CronTrigger(hour=hour, minute=minute, timezone=settings.tz),
        id="daily_digest",
        kwargs=digest,
        misfire_grace_time=3600,
        **common,
    )
    scheduler.add_job(
        weekly_digest,
        CronTrigger(
            day_of_week=settings.weekly_digest_day, hour=hour, minute=minute, timezone=settings.tz
        ),
        id="weekly_digest",
        kwargs=digest,
        misfire_grace_time=3600,
        **common,
    )
    scheduler.add_job(
        prune_poll_history,
        "interval",
        hours=1,
        id="prune_poll_history",
        kwargs={"sessionmaker": sessionmaker, "settings": settings, "clock": clock},
        **once,
    )
    scheduler.add_job(
        reconcile_feed_states,
        "interval",
        minutes=RECONCILE_MINUTES,
        id="reconcile_feed_states",
        kwargs={"sessionmaker": sessionmaker, "clock": clock},
        **once,
    )
    scheduler.add_job(
        reconcile_account_tallies,
        "interval",
        hours=1,
        id="reconcile_account_tallies",
        kwargs={"sessionmaker": sessionmaker},
        **once,
    )
    scheduler.add_job(
        expire_post_bodies,
        "interval",
        hours=1,
        id="expire_post_bodies",
        kwargs={"sessionmaker": sessionmaker, "settings": settings, "clock": clock},
        **once,
    )
    if live_checker is not None:
        scheduler.add_job(
            refresh_checker,
            "interval",
            minutes=1,
            id="refresh_checker",
            kwargs={"live": live_checker, "sessionmaker": sessionmaker},
            **common,
        )
        # stored posts follow a word-list change (runs until done; most runs find nothing)
        scheduler.add_job(
            sweep_history,
            "interval",
            minutes=1,
            id="history_sweep",
            kwargs={
                "sessionmaker": sessionmaker,
                "clock": clock,
                "live": live_checker,
                "settings": settings,
                "replica": replica,
            },
            **once,
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
            start_date=once["start_date"],
        )
    scheduler.add_job(
        repost_reminders,
        "interval",
        minutes=settings.repost_check_minutes,
        id="repost_reminders",
        kwargs=review_kwargs,
        **once,
    )
    scheduler.add_job(
        prune_handled_updates,
        "interval",
        hours=1,
        id="prune_handled_updates",
        kwargs={"sessionmaker": sessionmaker, "clock": clock},
        **once,
    )
    if duties is ReplicaDuties.CHAT:
        for job in scheduler.get_jobs():
            if job.id not in CHAT_JOBS:
                scheduler.remove_job(job.id)
    return scheduler
