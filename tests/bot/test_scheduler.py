"""The one scheduler factory registers every job with a stable id and safe defaults."""

from __future__ import annotations

import pytest

from bot.scheduler import RECONCILE_MINUTES, SINGLETONS, build_scheduler
from jobs.heartbeat import heartbeat
from jobs.poll import reconcile_feed_states
from jobs.registry import reconcile_account_tallies
from workflows.checker import LiveChecker


async def test_scheduler_registers_the_heartbeat_once_with_coalescing(
    settings, sessionmaker, clock
) -> None:
    scheduler = build_scheduler(
        settings=settings, sessionmaker=sessionmaker, clock=clock, live_checker=LiveChecker()
    )
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("heartbeat")
        assert job is not None and job.func is heartbeat
        assert job.coalesce is True and job.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)


async def test_heartbeat_reports_backlog_and_pending_registrations(sessionmaker, clock) -> None:
    figures = await heartbeat(sessionmaker=sessionmaker, clock=clock)
    assert figures == {"outbox_backlog": 0, "pending_registrations": 0}


async def test_cases_and_digests_are_scheduled_in_the_configured_zone(
    database_url, tg, sessionmaker, clock
) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    from jobs.cases import check_cases
    from jobs.digest import daily_digest, weekly_digest
    from tests.conftest import make_settings

    settings = make_settings(
        database_url,
        tg.base,
        digest_time="7:30",
        weekly_digest_day="Friday",
        timezone="Asia/Shanghai",
    )
    scheduler = build_scheduler(
        settings=settings, sessionmaker=sessionmaker, clock=clock, live_checker=LiveChecker()
    )
    scheduler.start(paused=True)
    try:
        shanghai = ZoneInfo("Asia/Shanghai")
        monday_8am = datetime(2026, 1, 5, 8, 0, tzinfo=shanghai)
        daily, weekly = scheduler.get_job("daily_digest"), scheduler.get_job("weekly_digest")
        assert daily.func is daily_digest and weekly.func is weekly_digest
        assert isinstance(daily.trigger, CronTrigger) and daily.trigger.timezone == shanghai
        assert daily.trigger.get_next_fire_time(None, monday_8am) == datetime(
            2026, 1, 6, 7, 30, tzinfo=shanghai
        )
        assert weekly.trigger.get_next_fire_time(None, monday_8am) == datetime(
            2026, 1, 9, 7, 30, tzinfo=shanghai
        )
        assert daily.coalesce is True and daily.max_instances == 1
        sweep = scheduler.get_job("check_cases")
        assert sweep.func is check_cases and sweep.kwargs["settings"] is settings
        assert monday_8am.astimezone(UTC).hour == 0
    finally:
        scheduler.shutdown(wait=False)


async def test_repost_reminders_run_on_one_replica_at_the_configured_interval(
    settings, sessionmaker, clock
) -> None:
    from bot.scheduler import SINGLETONS
    from jobs.reposts import repost_reminders

    scheduler = build_scheduler(settings=settings, sessionmaker=sessionmaker, clock=clock)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("repost_reminders")
        assert job is not None and job.func is repost_reminders
        assert job.trigger.interval.total_seconds() == settings.repost_check_minutes * 60
        assert job.coalesce is True and "repost_reminders" in SINGLETONS
    finally:
        scheduler.shutdown(wait=False)


async def test_history_sweep_runs_on_one_replica_with_the_live_checker(
    settings, sessionmaker, clock
) -> None:
    from bot.scheduler import SINGLETONS
    from jobs.history_sweep import sweep_history
    from workflows.checker import LiveChecker

    live = LiveChecker()
    scheduler = build_scheduler(
        settings=settings, sessionmaker=sessionmaker, clock=clock, live_checker=live
    )
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("history_sweep")
        assert job is not None and job.func is sweep_history and job.kwargs["live"] is live
        assert job.max_instances == 1 and "history_sweep" in SINGLETONS
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize(
    ("job_id", "func", "seconds"),
    [
        # the safety net behind the write paths that keep poll state in step: never per tick
        ("reconcile_feed_states", reconcile_feed_states, RECONCILE_MINUTES * 60),
        # the safety net behind the tally triggers: a grouped count of the registry, hourly
        ("reconcile_account_tallies", reconcile_account_tallies, 3600),
    ],
)
async def test_the_reconcile_jobs_run_on_one_replica_at_their_interval(
    settings, sessionmaker, clock, job_id: str, func: object, seconds: float
) -> None:
    scheduler = build_scheduler(settings=settings, sessionmaker=sessionmaker, clock=clock)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job(job_id)
        assert job is not None and job.func is func
        assert job.trigger.interval.total_seconds() == seconds
        assert job.max_instances == 1 and job_id in SINGLETONS
    finally:
        scheduler.shutdown(wait=False)
