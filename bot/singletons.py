"""Scheduled singletons: each occurrence of a job runs on exactly one replica.

Every replica schedules every job (APScheduler 3, same triggers, interval jobs aligned to one
epoch so that all replicas fire at the same instants). :class:`SingletonExecutor` runs a
singleton job only after winning its occurrence in ``job_runs`` (job id + scheduled time,
inserted with ON CONFLICT DO NOTHING): the other replicas' fire times find the row and skip.
While the job runs its lease is renewed; a replica killed mid-job stops renewing, and
:meth:`SingletonExecutor.retry_abandoned` (every few seconds on every replica) takes an
occurrence whose lease has expired unfinished over and runs it again. The jobs are idempotent
(dedup keys on every notice), so a retried half-run sends nothing twice.

Jobs that every replica must run for itself (the feed poller, which leases feeds with
``FOR UPDATE SKIP LOCKED``; the word-list refresh of the local checker; the heartbeat) are
not singletons.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.executors.base import run_coroutine_job
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.shutdown import settle
from governance.clock import Clock
from models import replicas
from models.replicas import RunOutcome

#: Interval jobs count their fire times from here, so every replica fires at the same instants.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: How far back an abandoned occurrence is still worth retrying.
RETRY_WINDOW = timedelta(days=1)


class SingletonExecutor(AsyncIOExecutor):  # type: ignore[misc]
    """AsyncIOExecutor that runs the jobs named in ``singletons`` once per occurrence."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        replica: str,
        lease: timedelta,
        singletons: Iterable[str],
    ) -> None:
        super().__init__()
        self.sessionmaker, self.clock, self.replica, self.lease = (
            sessionmaker,
            clock,
            replica,
            lease,
        )
        self.singletons = frozenset(singletons)
        self.skipped = 0
        """Occurrences another replica had already taken (for tests and logs)."""

    def running(self) -> set[asyncio.Future[Any]]:
        """The jobs being run now (APScheduler's shutdown cancels them without waiting)."""
        return set(self._pending_futures)

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if job.id not in self.singletons:
            super()._do_submit_job(job, run_times)
            return

        def callback(f: asyncio.Future[list[JobExecutionEvent]]) -> None:
            self._pending_futures.discard(f)
            try:
                events = f.result()
            except BaseException:
                self._run_job_error(job.id, *sys.exc_info()[1:])
            else:
                self._run_job_success(job.id, events)

        async def run() -> list[JobExecutionEvent]:
            return await self._run_once(job, run_times[-1]) or []

        f = self._eventloop.create_task(run())
        f.add_done_callback(callback)
        self._pending_futures.add(f)

    async def _run_once(
        self, job: Job, scheduled_at: datetime, *, takeover: bool = False
    ) -> list[JobExecutionEvent] | None:
        """Run the occurrence if this replica wins it; ``None`` when another one has it."""
        async with self.sessionmaker() as session:
            won = await replicas.claim_run(
                session,
                job_id=job.id,
                scheduled_at=scheduled_at,
                replica=self.replica,
                now=self.clock.now(),
                lease=self.lease,
            )
            await session.commit()
        if not won:
            self.skipped += 1
            return None
        keeper = asyncio.create_task(self._keep_lease(job.id, scheduled_at))
        try:
            if takeover:  # late on purpose: APScheduler's misfire rule does not apply
                logger.warning(
                    "job {} of {} taken over from a silent replica", job.id, scheduled_at
                )
                events = await _run_late(job, scheduled_at)
            else:
                events = await run_coroutine_job(
                    job, job._jobstore_alias, [scheduled_at], self._logger.name
                )
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        error = next((e for e in events if e.code == EVENT_JOB_ERROR), None)
        async with self.sessionmaker() as session:
            await replicas.finish_run(
                session,
                job_id=job.id,
                scheduled_at=scheduled_at,
                replica=self.replica,
                now=self.clock.now(),
                outcome=RunOutcome.FAILED if error else RunOutcome.DONE,
                error=repr(error.exception) if error else None,
            )
            await session.commit()
        return events

    async def _keep_lease(self, job_id: str, scheduled_at: datetime) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            async with self.sessionmaker() as session:
                mine = await replicas.renew_run(
                    session,
                    job_id=job_id,
                    scheduled_at=scheduled_at,
                    replica=self.replica,
                    until=self.clock.now() + self.lease,
                )
                await session.commit()
            if not mine:
                logger.warning("job {} of {}: lease lost to another replica", job_id, scheduled_at)
                return

    async def retry_abandoned(self) -> int:
        """Run again every occurrence whose replica stopped renewing before it finished."""
        now = self.clock.now()
        async with self.sessionmaker() as session:
            abandoned = await replicas.abandoned_runs(session, now=now, since=now - RETRY_WINDOW)
        retried = 0
        for run in abandoned:
            job = self._scheduler.get_job(run.job_id) if self._scheduler else None
            if job is None or run.job_id not in self.singletons:
                continue
            events = await self._run_once(job, run.scheduled_at, takeover=True)
            retried += events is not None
        return retried


class JobScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """The scheduler of every job, whose stop waits until the jobs it cancels have unwound."""

    def __init__(self, *, executor: SingletonExecutor, **options: Any) -> None:
        super().__init__(executors={"default": executor}, **options)
        self.executor = executor

    async def stop(self, *, grace: float = 10.0) -> None:
        """Shut down; the jobs running are cancelled and their sessions closed before return."""
        running = self.executor.running()
        if self.running:
            self.shutdown(wait=False)
        await settle(running, grace=grace, what="scheduled jobs")


async def _run_late(job: Job, scheduled_at: datetime) -> list[JobExecutionEvent]:
    try:
        await job.func(*job.args, **job.kwargs)
    except Exception as exc:
        logger.exception("job {} of {} failed", job.id, scheduled_at)
        return [
            JobExecutionEvent(
                EVENT_JOB_ERROR, job.id, job._jobstore_alias, scheduled_at, exception=exc
            )
        ]
    return [JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, scheduled_at)]


async def retry_abandoned_jobs(*, executor: SingletonExecutor) -> int:
    """The scheduled entry point (every replica, every few seconds)."""
    return await executor.retry_abandoned()


def singleton_kwargs(**extra: Any) -> dict[str, Any]:
    """``add_job`` arguments of an interval singleton: fire times aligned across replicas."""
    return {"start_date": EPOCH, **extra}
