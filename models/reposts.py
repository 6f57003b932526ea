"""Repost tasks (转载任务), stored: the task, one target row per assigned account, and the small
queries over them. State changes (and their audit rows and notices) are ``workflows.reposts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import NotFound
from governance.i18n import N_
from governance.reposts import (
    MatchMethod,
    TargetLine,
    TargetStatus,
    TaskReport,
    TaskStatus,
    progress_of,
)
from models.accounts import Account
from models.base import EnumString, UTCDateTime
from models.people import Unit


class RepostTask(SQLModel, table=True):
    __tablename__ = "repost_tasks"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    source_link: str | None = Field(default=None, max_length=2048)
    link_key: str | None = Field(default=None, max_length=512)
    text: str = Field(default="", sa_type=sa.Text())
    headline_counts: bool = False
    deadline: datetime = Field(sa_type=UTCDateTime())
    status: TaskStatus = Field(sa_type=EnumString(TaskStatus, 16), index=True)
    scope: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    """How the accounts were chosen: ``{"kind": ..., "ids": [...]}`` (for the record)."""
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    """The unit of a unit manager's task (None: the office's)."""
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(sa_type=UTCDateTime())
    reminded: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    """Reminders already sent (``governance.reposts.Reminder`` values)."""
    submission_key: str | None = Field(default=None, max_length=32, unique=True)


class RepostTarget(SQLModel, table=True):
    __tablename__ = "repost_targets"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="repost_tasks.id", index=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    status: TargetStatus = Field(sa_type=EnumString(TargetStatus, 16))
    method: MatchMethod | None = Field(default=None, sa_type=EnumString(MatchMethod, 16))
    post_id: int | None = Field(default=None, foreign_key="posts.id")
    link: str | None = Field(default=None, max_length=2048)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    matched_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    confirmed_by: int | None = Field(default=None, foreign_key="users.id")
    excluded_posts: list[int] = Field(default_factory=list, sa_type=sa.JSON)
    """Posts an admin said are not the repost: never matched again."""

    __table_args__ = (
        sa.UniqueConstraint("task_id", "account_id", name="uq_repost_targets_task_account"),
    )


async def get_task(session: AsyncSession, task_id: int) -> RepostTask:
    task = await session.get(RepostTask, task_id)
    if task is None:
        raise NotFound(N_("转载任务不存在。"))
    return task


async def get_target(session: AsyncSession, target_id: int) -> RepostTarget:
    target = await session.get(RepostTarget, target_id)
    if target is None:
        raise NotFound(N_("该账号不在此转载任务中。"))
    return target


async def list_tasks(
    session: AsyncSession, *, unit_id: int | None = None, limit: int = 20, offset: int = 0
) -> list[RepostTask]:
    """Newest first; a unit manager sees the tasks that reach their unit's accounts."""
    stmt = select(RepostTask).order_by(col(RepostTask.id).desc())
    if unit_id is not None:
        mine = (
            select(RepostTarget.task_id)
            .join(Account, col(Account.id) == RepostTarget.account_id)
            .where(Account.unit_id == unit_id)
        )
        stmt = stmt.where(col(RepostTask.id).in_(mine))
    return list(await session.exec(stmt.offset(offset).limit(limit)))


async def targets_of(
    session: AsyncSession, *, task_id: int, unit_id: int | None = None
) -> list[tuple[RepostTarget, Account, Unit]]:
    """A task's accounts with their units, by unit name then account id."""
    stmt = (
        select(RepostTarget, Account, Unit)
        .join(Account, col(Account.id) == RepostTarget.account_id)
        .join(Unit, col(Unit.id) == Account.unit_id)
        .where(RepostTarget.task_id == task_id)
        .order_by(col(Unit.name), col(Account.id))
    )
    if unit_id is not None:
        stmt = stmt.where(Account.unit_id == unit_id)
    return [(t, a, u) for t, a, u in await session.exec(stmt)]


async def open_targets_for_account(
    session: AsyncSession, *, account_id: int, now: datetime, grace: Any
) -> list[tuple[RepostTarget, RepostTask]]:
    """The account's still-pending targets of open tasks not long past their deadline."""
    rows = await session.exec(
        select(RepostTarget, RepostTask)
        .join(RepostTask, col(RepostTask.id) == RepostTarget.task_id)
        .where(
            RepostTarget.account_id == account_id,
            RepostTarget.status == TargetStatus.PENDING,
            RepostTask.status == TaskStatus.OPEN,
            col(RepostTask.deadline) >= now - grace,
        )
        .order_by(col(RepostTask.id))
    )
    return [(t, task) for t, task in rows]


async def open_tasks(session: AsyncSession) -> list[RepostTask]:
    rows = await session.exec(
        select(RepostTask).where(RepostTask.status == TaskStatus.OPEN).order_by(col(RepostTask.id))
    )
    return list(rows)


async def tasks_between(
    session: AsyncSession, *, start: datetime, end: datetime
) -> list[RepostTask]:
    """Tasks created before ``end`` whose deadline is at or after ``start`` (not withdrawn)."""
    rows = await session.exec(
        select(RepostTask)
        .where(
            RepostTask.created_at < end,
            RepostTask.deadline >= start,
            RepostTask.status != TaskStatus.CANCELLED,
        )
        .order_by(col(RepostTask.id))
    )
    return list(rows)


async def missed_counts(
    session: AsyncSession, *, account_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, int]:
    """Per account: tasks whose deadline fell in ``[start, end)`` and that it did not repost."""
    found: dict[int, int] = {}
    for first in range(0, len(account_ids), 500):
        chunk = account_ids[first : first + 500]
        rows = await session.exec(
            select(RepostTarget.account_id, sa.func.count())
            .join(RepostTask, col(RepostTask.id) == RepostTarget.task_id)
            .where(
                col(RepostTarget.account_id).in_(chunk),
                RepostTarget.status == TargetStatus.PENDING,
                RepostTask.status != TaskStatus.CANCELLED,
                RepostTask.deadline >= start,
                RepostTask.deadline < end,
            )
            .group_by(col(RepostTarget.account_id))
        )
        found.update({account_id: int(n) for account_id, n in rows})
    return found


async def overdue(
    session: AsyncSession, *, now: datetime, since: datetime, unit_id: int | None = None
) -> list[tuple[RepostTask, list[Account]]]:
    """Open tasks whose deadline passed in ``[since, now]`` with accounts still pending."""
    rows = await session.exec(
        select(RepostTask, Account)
        .join(RepostTarget, col(RepostTarget.task_id) == RepostTask.id)
        .join(Account, col(Account.id) == RepostTarget.account_id)
        .where(
            RepostTask.status == TaskStatus.OPEN,
            RepostTask.deadline <= now,
            RepostTask.deadline >= since,
            RepostTarget.status == TargetStatus.PENDING,
        )
        .order_by(col(RepostTask.id), col(Account.id))
    )
    found: dict[int, tuple[RepostTask, list[Account]]] = {}
    for task, account in rows:
        if unit_id is not None and account.unit_id != unit_id:
            continue
        found.setdefault(task.id or 0, (task, []))[1].append(account)
    return list(found.values())


def line_of(
    target: RepostTarget, account: Account, unit: Unit, *, task: RepostTask, now: datetime
) -> TargetLine:
    """One account of a task as the card and the report show it."""
    done_at = target.published_at or target.matched_at
    return TargetLine(
        account_id=account.id or 0,
        account=account.name,
        unit=unit.name,
        progress=progress_of(target.status, deadline=task.deadline, now=now),
        method=target.method,
        matched_at=done_at,
        link=target.link,
        late=bool(target.status is TargetStatus.DONE and done_at and done_at > task.deadline),
    )


async def task_reports(
    session: AsyncSession, *, start: datetime, end: datetime, now: datetime, unit_id: int | None
) -> list[TaskReport]:
    """The tasks of a report period, each account's progress as of ``min(end, now)``."""
    as_of = min(end, now)
    found = []
    for task in await tasks_between(session, start=start, end=end):
        rows = await targets_of(session, task_id=task.id or 0, unit_id=unit_id)
        if rows:
            lines = tuple(line_of(t, a, u, task=task, now=as_of) for t, a, u in rows)
            found.append(TaskReport(task.id or 0, task.title, task.deadline, lines))
    return found
