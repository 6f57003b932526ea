"""Repost tasks (转载任务): create a task for many accounts, record each account's repost as the
poller sees it, let an admin correct a match, and remind the responsible people of the rest.

Every change writes an audit row (``repost_task.*`` on the task, ``repost_target.*`` on one
account's row) and every message to someone else is a typed notice queued in the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.errors import Conflict, InvalidInput, PermissionDenied
from governance.i18n import N_
from governance.registry import Platform, validate_http_url, validate_reason, validate_text
from governance.reposts import (
    Article,
    MatchMethod,
    PostView,
    Reminder,
    ScopeKind,
    TargetLine,
    TargetStatus,
    TaskStatus,
    Thresholds,
    canonical_link,
    due_reminders,
    in_window,
    judge,
)
from governance.roles import Actor
from governance.vocabulary import AccountStatus
from models import audit
from models.accounts import Account
from models.posts import Post
from models.reposts import (
    RepostTarget,
    RepostTask,
    get_target,
    get_task,
    line_of,
    open_targets_for_account,
    open_tasks,
    targets_of,
)
from workflows.audience import To
from workflows.notices import RepostAssigned, RepostReminder
from workflows.notify import notify

#: Accounts a task can reach: in use, or in use while rectifying.
ASSIGNABLE = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING)
TITLE_MAX, TEXT_MAX = 300, 5000
MAX_DAYS = 90
NOT_ALLOWED = N_("只有管理员和单位管理员可以管理转载任务。")
NOT_YOURS = N_("单位管理员只能管理本单位发起的转载任务。")


def can_manage_reposts(actor: Actor) -> bool:
    return actor.is_admin or actor.is_unit_manager


def can_correct(actor: Actor, task: RepostTask) -> bool:
    """Admins correct any task; a unit manager only the tasks their unit started."""
    return actor.is_admin or (task.unit_id is not None and actor.manages(task.unit_id))


def validate_title(text: str | None) -> str:
    return validate_text(text, label=N_("标题"), min_len=2, max_len=TITLE_MAX)


def validate_body(text: str | None) -> str:
    return validate_text(text, label=N_("正文"), min_len=0, max_len=TEXT_MAX, one_line=False)


def validate_link(text: str | None) -> str:
    return validate_http_url(text, label=N_("原文链接"))


def validate_deadline(deadline: datetime, *, now: datetime) -> datetime:
    if deadline <= now:
        raise InvalidInput(N_("截止时间已过，请输入将来的时间。"))
    if deadline - now > timedelta(days=MAX_DAYS):
        raise InvalidInput(N_("截止时间最多设在 {days} 天之后。"), days=MAX_DAYS)
    return deadline


@dataclass(frozen=True, slots=True)
class TaskDraft:
    """A task as the dialog gathered it."""

    title: str
    link: str | None
    text: str
    headline_counts: bool
    deadline: datetime
    scope: ScopeKind
    ids: tuple[str, ...] = ()
    """Unit ids, platform values or account ids, as strings, by ``scope``."""


async def assignable_accounts(
    session: AsyncSession, *, actor: Actor, scope: ScopeKind, ids: Sequence[str]
) -> list[Account]:
    """The accounts ``scope`` names that ``actor`` may assign (a unit manager: their unit's)."""
    stmt = select(Account).where(col(Account.status).in_(ASSIGNABLE)).order_by(col(Account.id))
    if not actor.is_admin:
        if actor.unit_id is None:
            raise PermissionDenied(NOT_ALLOWED)
        stmt = stmt.where(Account.unit_id == actor.unit_id)
    numbers = [int(i) for i in ids if str(i).isdigit()]
    if scope is ScopeKind.UNITS:
        stmt = stmt.where(col(Account.unit_id).in_(numbers))
    elif scope is ScopeKind.PLATFORMS:
        platforms = [Platform(p) for p in ids if p in Platform._value2member_map_]
        stmt = stmt.where(col(Account.platform).in_(platforms))
    elif scope is ScopeKind.LIST:
        stmt = stmt.where(col(Account.id).in_(numbers))
    return list(await session.exec(stmt))


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _notice_fields(task: RepostTask, account: Account, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "task_id": task.id or 0,
        "title": task.title,
        "link": task.source_link or "",
        "deadline": _local(task.deadline, tz),
        "account_id": account.id or 0,
        "account": account.name,
        "platform": account.platform,
        "headline_counts": task.headline_counts,
    }


async def create_task(
    session: AsyncSession,
    *,
    actor: Actor,
    draft: TaskDraft,
    now: datetime,
    tz: ZoneInfo,
    submission_key: str | None = None,
) -> tuple[RepostTask, int]:
    """Store the task and one pending row per account; tell each responsible person.

    Returns the task and how many accounts it reaches. No account: nothing is stored.
    """
    if not can_manage_reposts(actor):
        raise PermissionDenied(NOT_ALLOWED)
    validate_deadline(draft.deadline, now=now)
    chosen = await assignable_accounts(session, actor=actor, scope=draft.scope, ids=draft.ids)
    if not chosen:
        raise InvalidInput(N_("所选范围内没有在用的账号，任务未创建。"))
    task = RepostTask(
        title=validate_title(draft.title),
        source_link=draft.link,
        link_key=canonical_link(draft.link),
        text=validate_body(draft.text),
        headline_counts=draft.headline_counts,
        deadline=draft.deadline,
        status=TaskStatus.OPEN,
        scope={"kind": draft.scope.value, "ids": list(draft.ids)},
        unit_id=None if actor.is_admin else actor.unit_id,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
        submission_key=submission_key,
    )
    session.add(task)
    await session.flush()
    for account in chosen:
        session.add(
            RepostTarget(
                task_id=task.id or 0, account_id=account.id or 0, status=TargetStatus.PENDING
            )
        )
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="repost_task.created",
        object_type="repost_task",
        object_id=task.id,
        after={
            "title": task.title,
            "link": task.source_link,
            "deadline": task.deadline.isoformat(),
            "headline_counts": task.headline_counts,
            "scope": task.scope,
            "accounts": [a.id for a in chosen],
        },
    )
    for account in chosen:
        await notify(
            session,
            RepostAssigned(**_notice_fields(task, account, tz)),
            to=To.of(Audience.RESPONSIBLE, account=account, exclude=actor.user_id),
            now=now,
        )
    return task, len(chosen)


async def _mark_done(
    session: AsyncSession,
    target: RepostTarget,
    *,
    method: MatchMethod,
    post_id: int | None,
    link: str | None,
    published_at: datetime | None,
    now: datetime,
    actor_id: int | None,
    note: str | None = None,
) -> None:
    before = {"status": target.status.value}
    target.status, target.method = TargetStatus.DONE, method
    target.post_id, target.link, target.published_at = post_id, link, published_at
    target.matched_at, target.confirmed_by = now, actor_id
    session.add(target)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action="repost_target.confirmed" if actor_id else "repost_target.matched",
        object_type="repost_task",
        object_id=target.task_id,
        before=before,
        after={
            "account_id": target.account_id,
            "method": method.value,
            "post_id": post_id,
            "link": link,
            "published_at": published_at.isoformat() if published_at else None,
        },
        note=note,
    )


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post the poller just stored, as repost recognition needs it."""

    post_id: int
    title: str
    text: str
    link: str | None
    published_at: datetime


async def match_posts(
    session: AsyncSession,
    *,
    account_id: int,
    posts: Sequence[NewPost],
    now: datetime,
    thresholds: Thresholds | None = None,
) -> list[RepostTarget]:
    """Compare an account's new posts with its open tasks; record each task a post reposts.

    One query for the account's open tasks, however many posts. Idempotent: a target already
    done, or a post an admin excluded, is left alone.
    """
    th = thresholds or Thresholds()
    open_rows = await open_targets_for_account(
        session, account_id=account_id, now=now, grace=th.grace
    )
    matched: list[RepostTarget] = []
    for target, task in open_rows:
        article = Article.of(
            title=task.title,
            link=task.source_link,
            text=task.text,
            headline_counts=task.headline_counts,
        )
        for post in posts:
            if post.post_id in (target.excluded_posts or []):
                continue
            if not in_window(
                post.published_at, created_at=task.created_at, deadline=task.deadline, th=th
            ):
                continue
            method = judge(article, PostView(post.title or "", post.link, post.text or ""), th)
            if method is None:
                continue
            await _mark_done(
                session,
                target,
                method=method,
                post_id=post.post_id,
                link=post.link,
                published_at=post.published_at,
                now=now,
                actor_id=None,
            )
            matched.append(target)
            break
    return matched


async def match_post(
    session: AsyncSession,
    *,
    account_id: int,
    post_id: int,
    title: str,
    text: str,
    link: str | None,
    published_at: datetime,
    now: datetime,
    thresholds: Thresholds | None = None,
) -> list[RepostTarget]:
    """:func:`match_posts` for one post."""
    post = NewPost(post_id, title, text, link, published_at)
    return await match_posts(
        session, account_id=account_id, posts=[post], now=now, thresholds=thresholds
    )


async def _correctable(
    session: AsyncSession, *, actor: Actor, target_id: int
) -> tuple[RepostTarget, RepostTask]:
    target = await get_target(session, target_id)
    task = await get_task(session, target.task_id)
    if not can_correct(actor, task):
        raise PermissionDenied(NOT_YOURS)
    if task.status is not TaskStatus.OPEN:
        raise Conflict(N_("该转载任务已结束，不能再修改。"))
    return target, task


async def undo_match(
    session: AsyncSession, *, actor: Actor, target_id: int, reason: str, now: datetime
) -> RepostTarget:
    """A false match: back to pending, and that post is never matched to the task again."""
    reason = validate_reason(reason, label=N_("撤销原因"))
    target, _task = await _correctable(session, actor=actor, target_id=target_id)
    if target.status is not TargetStatus.DONE:
        raise Conflict(N_("该账号尚未完成转载，无需撤销。"))
    before = {
        "status": target.status.value,
        "method": target.method.value if target.method else None,
        "post_id": target.post_id,
        "link": target.link,
    }
    if target.post_id is not None:
        target.excluded_posts = [*(target.excluded_posts or []), target.post_id]
    target.status, target.method, target.post_id = TargetStatus.PENDING, None, None
    target.link = target.published_at = target.matched_at = None
    target.confirmed_by = None
    session.add(target)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="repost_target.undone",
        object_type="repost_task",
        object_id=target.task_id,
        before=before,
        after={"account_id": target.account_id, "status": target.status.value},
        note=reason,
    )
    return target


async def confirm_by_hand(
    session: AsyncSession, *, actor: Actor, target_id: int, link: str, now: datetime
) -> RepostTarget:
    """A repost the poller missed (no feed, a deleted post): done by hand, with its link."""
    link = validate_link(link)
    target, _task = await _correctable(session, actor=actor, target_id=target_id)
    if target.status is TargetStatus.DONE:
        raise Conflict(N_("该账号已完成转载。"))
    post = (
        await session.exec(
            select(Post).where(Post.account_id == target.account_id, Post.link == link).limit(1)
        )
    ).first()
    await _mark_done(
        session,
        target,
        method=MatchMethod.MANUAL,
        post_id=post.id if post else None,
        link=link,
        published_at=post.published_at if post else None,
        now=now,
        actor_id=actor.user_id,
    )
    return target


async def close_task(
    session: AsyncSession, *, actor: Actor, task_id: int, now: datetime, cancel: bool = False
) -> RepostTask:
    """End a task (结束: keeps its record) or withdraw it (撤销: it no longer counts)."""
    task = await get_task(session, task_id)
    if not can_correct(actor, task):
        raise PermissionDenied(NOT_YOURS)
    if task.status is not TaskStatus.OPEN:
        raise Conflict(N_("该转载任务已结束。"))
    task.status = TaskStatus.CANCELLED if cancel else TaskStatus.CLOSED
    task.updated_at = now
    session.add(task)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="repost_task.cancelled" if cancel else "repost_task.closed",
        object_type="repost_task",
        object_id=task.id,
        before={"status": TaskStatus.OPEN.value},
        after={"status": task.status.value},
    )
    return task


async def task_lines(
    session: AsyncSession, task: RepostTask, *, now: datetime, unit_id: int | None = None
) -> list[tuple[RepostTarget, TargetLine]]:
    """The task's accounts as the card shows them (one unit's, for a unit manager)."""
    lines = []
    for target, account, unit in await targets_of(session, task_id=task.id or 0, unit_id=unit_id):
        lines.append((target, line_of(target, account, unit, task=task, now=now)))
    return lines


async def send_reminders(
    session: AsyncSession,
    *,
    now: datetime,
    tz: ZoneInfo,
    before: timedelta = timedelta(days=1),
    alert_chat_id: int | None = None,
) -> int:
    """Remind the responsible people of pending accounts, a day before and at the deadline;
    each reminder once per task (recorded on the task). Returns notices queued."""
    queued = 0
    for task in await open_tasks(session):
        due = due_reminders(
            deadline=task.deadline,
            now=now,
            sent=[Reminder(r) for r in task.reminded or [] if r in Reminder._value2member_map_],
            before=before,
            created_at=task.created_at,
        )
        for stage in due:
            pending = 0
            for target, account, _unit in await targets_of(session, task_id=task.id or 0):
                if target.status is not TargetStatus.PENDING:
                    continue
                pending += 1
                queued += await notify(
                    session,
                    RepostReminder(stage=stage.value, **_notice_fields(task, account, tz)),
                    to=To.of(Audience.RESPONSIBLE, account=account),
                    now=now,
                    alert_chat_id=alert_chat_id,
                )
            task.reminded = [*(task.reminded or []), stage.value]
            task.updated_at = now
            session.add(task)
            await session.flush()
            await audit.record(
                session,
                at=now,
                actor_id=None,
                action="repost_task.reminded",
                object_type="repost_task",
                object_id=task.id,
                after={"stage": stage.value, "pending": pending},
            )
    return queued
