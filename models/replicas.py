"""What several replicas of the bot share through the database, so each does what is free.

- ``job_runs``: one row per occurrence of a scheduled singleton (job id + scheduled time). The
  replica whose insert wins runs it and holds a lease it renews while running; a replica killed
  mid-job stops renewing, and once the lease has expired another replica takes the occurrence
  over (:func:`claim_run`). A finished row is never run again.
- ``handled_updates``: the ids of Telegram updates already handled, written in the update's own
  transaction, so an update Telegram hands out again (a new polling leader starts without the
  old one's offset; a webhook retry) changes nothing twice.
- ``send_pace``: the shared pacing of the outbox on PostgreSQL (GCRA, one row per key: the
  global ceiling and each chat), so the Telegram limits hold across replicas.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.base import UTCDateTime, dialect_insert, enum_column


class RunOutcome(StrEnum):
    DONE = "done"
    FAILED = "failed"


class JobRun(SQLModel, table=True):
    __tablename__ = "job_runs"

    job_id: str = Field(primary_key=True, max_length=64)
    scheduled_at: datetime = Field(primary_key=True, sa_type=UTCDateTime())
    replica: str = Field(max_length=128)
    """The replica running (or that ran) the occurrence."""
    started_at: datetime = Field(sa_type=UTCDateTime())
    lease_until: datetime = Field(sa_type=UTCDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    outcome: str | None = Field(default=None, sa_type=enum_column(16))
    attempts: int = 1
    error: str | None = Field(default=None, max_length=300)


class HandledUpdate(SQLModel, table=True):
    __tablename__ = "handled_updates"

    update_id: int = Field(
        sa_type=sa.BigInteger(), primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    replica: str = Field(max_length=128)
    handled_at: datetime = Field(sa_type=UTCDateTime(), index=True)


class SendPace(SQLModel, table=True):
    __tablename__ = "send_pace"

    key: str = Field(primary_key=True, max_length=32)
    tat: datetime = Field(sa_type=sa.DateTime(timezone=True))
    """GCRA's theoretical arrival time: the next send under this key conforms from here on."""


async def claim_run(
    session: AsyncSession,
    *,
    job_id: str,
    scheduled_at: datetime,
    replica: str,
    now: datetime,
    lease: timedelta,
) -> bool:
    """Take one occurrence: a fresh one, or one whose runner's lease has expired unfinished."""
    insert = dialect_insert(session)
    inserted = await session.exec(
        insert(JobRun)
        .values(
            job_id=job_id,
            scheduled_at=scheduled_at,
            replica=replica,
            started_at=now,
            lease_until=now + lease,
            attempts=1,
        )
        .on_conflict_do_nothing(index_elements=["job_id", "scheduled_at"])
    )
    if inserted.rowcount == 1:
        return True
    taken = await session.exec(
        sa.update(JobRun)
        .where(
            col(JobRun.job_id) == job_id,
            col(JobRun.scheduled_at) == scheduled_at,
            col(JobRun.finished_at).is_(None),
            col(JobRun.lease_until) < now,
        )
        .values(
            replica=replica, started_at=now, lease_until=now + lease, attempts=JobRun.attempts + 1
        )
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount == 1)


async def renew_run(
    session: AsyncSession,
    *,
    job_id: str,
    scheduled_at: datetime,
    replica: str,
    until: datetime,
) -> bool:
    """Extend our lease; ``False`` when another replica has taken the occurrence over."""
    result = await session.exec(
        sa.update(JobRun)
        .where(
            col(JobRun.job_id) == job_id,
            col(JobRun.scheduled_at) == scheduled_at,
            col(JobRun.replica) == replica,
            col(JobRun.finished_at).is_(None),
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


async def finish_run(
    session: AsyncSession,
    *,
    job_id: str,
    scheduled_at: datetime,
    replica: str,
    now: datetime,
    outcome: RunOutcome,
    error: str | None = None,
) -> None:
    await session.exec(
        sa.update(JobRun)
        .where(
            col(JobRun.job_id) == job_id,
            col(JobRun.scheduled_at) == scheduled_at,
            col(JobRun.replica) == replica,
        )
        .values(finished_at=now, outcome=outcome.value, error=(error or None) and error[:300])
        .execution_options(synchronize_session=False)
    )


async def abandoned_runs(session: AsyncSession, *, now: datetime, since: datetime) -> list[JobRun]:
    """Occurrences started since ``since`` whose runner stopped renewing before finishing."""
    rows = await session.exec(
        select(JobRun)
        .where(
            col(JobRun.finished_at).is_(None),
            col(JobRun.lease_until) < now,
            col(JobRun.scheduled_at) >= since,
        )
        .order_by(col(JobRun.scheduled_at))
    )
    return list(rows)


async def mark_update_handled(
    session: AsyncSession,
    *,
    update_id: int,
    replica: str,
    now: datetime,
    alone: bool = False,
) -> bool:
    """Record an update as handled in the caller's transaction; ``False``: it already was.

    On PostgreSQL a second replica handling the same update waits here until the first one's
    transaction ends: it then sees the row (skip) or, after a rollback, handles it itself.

    ``alone``: the record is the transaction's only write (what the handler wrote is already
    committed, before its reply). Its commit then does not wait for the write-ahead log to
    reach the disk (``synchronous_commit`` off for this transaction): under a poll cycle's
    writes that wait was most of a read-only reply's time. A server crash within the next
    fraction of a second can lose the record, and a redelivered copy of the update then runs
    again over data that is durable: what a double click does, which every handler survives.
    On PostgreSQL it is then one statement in autocommit mode, setting ``synchronous_commit``
    itself: one round trip instead of four (BEGIN, SET LOCAL, INSERT, COMMIT) on every update.
    """
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    if alone and postgres:
        connection = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        result = await connection.execute(
            MARK_QUICKLY, {"update_id": update_id, "replica": replica, "handled_at": now}
        )
        return result.first() is not None
    insert = dialect_insert(session)
    result = await session.exec(
        insert(HandledUpdate)
        .values(update_id=update_id, replica=replica, handled_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    return bool(result.rowcount == 1)


#: The record of a handled update as one autocommitted statement whose commit does not wait
#: for the disk: ``set_config(..., true)`` holds for the statement's own transaction, and the
#: row it returns (none after a conflict) says which commit mode that was.
MARK_QUICKLY = (
    postgresql.insert(HandledUpdate)
    .from_select(
        ["update_id", "replica", "handled_at"],
        sa.select(
            sa.bindparam("update_id", type_=sa.BigInteger()),
            sa.bindparam("replica", type_=sa.String()),
            sa.bindparam("handled_at", type_=UTCDateTime()),
        ).select_from(
            sa.select(sa.func.set_config("synchronous_commit", "off", sa.true())).subquery("quick")
        ),
    )
    .on_conflict_do_nothing(index_elements=["update_id"])
    .returning(sa.func.current_setting("synchronous_commit").label("commit_mode"))
)


async def prune_handled_updates(session: AsyncSession, *, before: datetime) -> int:
    """Telegram keeps an update for 24 hours; older ids can never come back."""
    result = await session.exec(
        sa.delete(HandledUpdate).where(col(HandledUpdate.handled_at) < before)
    )
    return int(result.rowcount or 0)


_PACE = sa.text(
    """
    INSERT INTO send_pace AS p (key, tat)
    VALUES (:key, clock_timestamp() + make_interval(secs => :gap))
    ON CONFLICT (key) DO UPDATE
        SET tat = GREATEST(p.tat, clock_timestamp()) + make_interval(secs => :gap)
        WHERE p.tat - clock_timestamp() <= make_interval(secs => :burst)
    RETURNING p.key
    """
).bindparams(
    sa.bindparam("key", type_=sa.String()),
    sa.bindparam("gap", type_=sa.Float()),
    sa.bindparam("burst", type_=sa.Float()),
)


async def take_send_slot(session: AsyncSession, *, key: str, gap: float, burst: float) -> bool:
    """PostgreSQL only: one send under ``key`` if it conforms (GCRA: one per ``gap`` seconds,
    up to ``burst`` seconds ahead), timed by the database's clock so every replica agrees."""
    connection = await session.connection()
    result = await connection.execute(_PACE, {"key": key, "gap": gap, "burst": burst})
    return result.first() is not None
