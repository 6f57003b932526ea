"""The history sweep's progress (``history_sweeps``, one row): which word lists stored posts are
being brought to, and how far the walk got, so a restart of the bot resumes where it stopped.

Replicas share the row: the one holding its lease (``holder`` until ``lease_until``) walks, and
each batch's findings are written in the same transaction that moves the cursor, guarded by the
holder and the target digest (:func:`advance`). A replica that lost the lease, or whose target
was replaced by a newer word change, finds its guarded update refused and stops: no batch is
swept twice, none is skipped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.sweep import Items, SweepState, digest, dump_items
from models.base import EnumString, UTCDateTime

ROW_ID = 1


class HistorySweep(SQLModel, table=True):
    __tablename__ = "history_sweeps"

    id: int = Field(default=ROW_ID, primary_key=True)
    state: SweepState = Field(sa_type=EnumString(SweepState, 10))
    target: str = Field(sa_type=sa.Text())
    """The customisation being swept to (:func:`governance.sweep.dump_items`)."""
    target_digest: str = Field(max_length=32)
    union_items: str = Field(sa_type=sa.Text())
    """Every item some stored post may reflect (see :func:`governance.sweep.delta`)."""
    inter_items: str = Field(sa_type=sa.Text())
    """The items every stored post reflects."""
    findings_only: bool = False
    """The walk goes over posts with findings citing removed words, not over every post."""
    cursor: int = Field(default=0, sa_type=sa.BigInteger())
    """The last post id handled (keyset order)."""
    done: int = 0
    total: int | None = None
    rechecked: int = 0
    found: int = 0
    withdrawn: int = 0
    started_at: datetime = Field(sa_type=UTCDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    holder: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime())


async def _guarded(session: AsyncSession, *where: sa.ColumnElement[bool], **values: object) -> bool:
    """Update the one row where ``where`` still holds; False when another replica moved it on."""
    result = await session.exec(
        sa.update(HistorySweep)
        .where(col(HistorySweep.id) == ROW_ID, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)


async def current(session: AsyncSession) -> HistorySweep | None:
    return await session.get(HistorySweep, ROW_ID, populate_existing=True)


async def record_baseline(session: AsyncSession, *, target: Items, now: datetime) -> bool:
    """First run: stored posts were checked with today's lists; nothing to sweep."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    dumped = dump_items(target)
    result = await session.exec(
        insert(HistorySweep)
        .values(
            id=ROW_ID,
            state=SweepState.DONE,
            target=dumped,
            target_digest=digest(target),
            union_items=dumped,
            inter_items=dumped,
            started_at=now,
            finished_at=now,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    return bool(result.rowcount == 1)


async def restart(
    session: AsyncSession,
    *,
    previous_digest: str,
    target: Items,
    union: Items,
    inter: Items,
    findings_only: bool,
    total: int | None,
    now: datetime,
) -> bool:
    """Start (or restart from the first post) towards ``target``; False if another replica
    already moved the row on from ``previous_digest``."""
    return await _guarded(
        session,
        col(HistorySweep.target_digest) == previous_digest,
        state=SweepState.RUNNING,
        target=dump_items(target),
        target_digest=digest(target),
        union_items=dump_items(union),
        inter_items=dump_items(inter),
        findings_only=findings_only,
        cursor=0,
        done=0,
        total=total,
        rechecked=0,
        found=0,
        withdrawn=0,
        started_at=now,
        finished_at=None,
        holder=None,
        lease_until=None,
    )


def _running(target_digest: str) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    return (
        col(HistorySweep.state) == SweepState.RUNNING,
        col(HistorySweep.target_digest) == target_digest,
    )


async def claim(
    session: AsyncSession, *, holder: str, target_digest: str, now: datetime, lease: timedelta
) -> bool:
    """Take (or keep) the walk unless another replica holds a live lease on it."""
    return await _guarded(
        session,
        *_running(target_digest),
        sa.or_(
            col(HistorySweep.holder).is_(None),
            col(HistorySweep.holder) == holder,
            col(HistorySweep.lease_until) < now,
        ),
        holder=holder,
        lease_until=now + lease,
    )


async def advance(
    session: AsyncSession,
    *,
    holder: str,
    target_digest: str,
    cursor: int,
    posts: int,
    rechecked: int,
    found: int,
    withdrawn: int,
    now: datetime,
    lease: timedelta,
) -> bool:
    """Move the cursor past a batch (in the batch's own transaction); False: not ours any more,
    the caller rolls the batch back."""
    return await _guarded(
        session,
        *_running(target_digest),
        col(HistorySweep.holder) == holder,
        col(HistorySweep.cursor) < cursor,
        cursor=cursor,
        done=HistorySweep.done + posts,
        rechecked=HistorySweep.rechecked + rechecked,
        found=HistorySweep.found + found,
        withdrawn=HistorySweep.withdrawn + withdrawn,
        lease_until=now + lease,
    )


async def set_total(session: AsyncSession, *, target_digest: str, total: int) -> None:
    await _guarded(session, col(HistorySweep.target_digest) == target_digest, total=total)


async def finish(
    session: AsyncSession, *, holder: str, target_digest: str, target: Items, now: datetime
) -> bool:
    """Every post reflects ``target`` now."""
    dumped = dump_items(target)
    return await _guarded(
        session,
        *_running(target_digest),
        col(HistorySweep.holder) == holder,
        state=SweepState.DONE,
        union_items=dumped,
        inter_items=dumped,
        finished_at=now,
        holder=None,
        lease_until=None,
    )


async def digest_of(session: AsyncSession) -> str | None:
    return (
        await session.exec(select(HistorySweep.target_digest).where(col(HistorySweep.id) == ROW_ID))
    ).first()
