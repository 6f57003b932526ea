"""The one scheduler factory registers every job with a stable id and safe defaults."""

from __future__ import annotations

from bot.scheduler import build_scheduler
from jobs.checker import LiveChecker
from jobs.heartbeat import heartbeat


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
