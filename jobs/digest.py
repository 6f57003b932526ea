"""Daily and weekly digests (每日通报 / 周报): one short message summarising a period.

The daily one goes to the admins' chat (``ALERT_CHAT_ID``, else each admin); the weekly one to
each unit's managers, about their unit. Figures are gathered here and stored as parameters; the
text is rendered in the reader's language when sent. One dedup key per period and chat makes a
re-run (or a restart at 09:00) send nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.activity import DormancyState
from governance.alerts import Audience
from governance.clock import Clock
from governance.review import ReviewStatus, deadline
from governance.roles import Role
from models import cases, people
from models import reposts as repost_tasks
from models.accounts import Account
from models.alerts import AlertState
from models.audit import AuditEntry
from models.feeds import POLLED_STATUSES
from models.findings import StoredFinding
from models.reviews import Review
from workflows.audience import To
from workflows.notices import Digest
from workflows.notify import notify

if TYPE_CHECKING:
    from bot.settings import Settings

DORMANT_STATES = {DormancyState.DORMANT, DormancyState.CLOSURE_CANDIDATE}
NAMES_SHOWN = 5
REPOST_OVERDUE_SHOWN = timedelta(days=30)


async def gather(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    unit_id: int | None = None,
    period: str,
    label: str,
) -> Digest:
    """The figures of [start, end), for one unit or (None) the whole region."""
    unit = await session.get(people.Unit, unit_id) if unit_id else None
    new_problems: dict[str, int] = {}
    veto_problems = 0
    newly_dormant: list[tuple[int, str]] = []
    in_unit = select(Account.id).where(Account.unit_id == unit_id) if unit_id else None

    problems = select(
        StoredFinding.category,
        StoredFinding.severity,
        func.count(func.distinct(StoredFinding.account_key)),
    ).where(StoredFinding.found_at >= start, StoredFinding.found_at < end)
    if in_unit is not None:
        problems = problems.where(col(StoredFinding.account_id).in_(in_unit))
    for category, severity, count in await session.exec(
        problems.group_by(StoredFinding.category, StoredFinding.severity)
    ):
        new_problems[category] = new_problems.get(category, 0) + int(count)
        veto_problems += int(count) if severity == "veto" else 0

    changes = await session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.action == "account.activity_changed",
            AuditEntry.at >= start,
            AuditEntry.at < end,
        )
        .order_by(col(AuditEntry.id))
    )
    shown: list[Account] = []
    dormant_ids = list(
        dict.fromkeys(
            int(e.object_id) for e in changes if (e.after or {}).get("activity") in DORMANT_STATES
        )
    )
    if dormant_ids:
        stmt = select(Account).where(col(Account.id).in_(dormant_ids))
        if unit_id:
            stmt = stmt.where(Account.unit_id == unit_id)
        found = {a.id: a for a in await session.exec(stmt)}
        shown = [found[i] for i in dormant_ids if i in found]
        newly_dormant = [(a.id or 0, a.name) for a in shown[:NAMES_SHOWN]]

    monitored = (
        select(func.count())
        .select_from(AlertState)
        .join(Account, col(Account.id) == AlertState.account_id)
        .where(col(Account.status).in_(POLLED_STATUSES), col(Account.feed_url).is_not(None))
    )
    if unit_id:
        monitored = monitored.where(Account.unit_id == unit_id)
    return Digest(
        period=period,
        label=label,
        unit_id=unit_id or 0,
        unit=unit.name if unit else "",
        days=max(1, round((end - start) / timedelta(days=1))),
        new_problems=new_problems,
        veto_problems=veto_problems,
        newly_dormant=newly_dormant,
        newly_dormant_total=len(shown),
        cases_opened=await cases.count_between(
            session, column="opened_at", start=start, end=end, unit_id=unit_id
        ),
        cases_resolved=await cases.count_between(
            session, column="resolved_at", start=start, end=end, unit_id=unit_id
        ),
        cases_overdue=await cases.count_between(
            session, column="overdue_at", start=start, end=end, unit_id=unit_id
        ),
        cases_overdue_now=await cases.count_overdue(session, unit_id=unit_id),
        cases_active=len(await cases.active_cases(session, unit_id=unit_id)),
        feeds_broken=int(
            (await session.exec(monitored.where(col(AlertState.feed_broken).is_(True)))).one()
        ),
        below_plan=int(
            (await session.exec(monitored.where(col(AlertState.below_plan).is_(True)))).one()
        ),
        reviews_late=await late_reviews(session, now=end, unit_id=unit_id),
        reposts_overdue=await overdue_reposts(session, now=end, unit_id=unit_id),
    )


async def overdue_reposts(
    session: AsyncSession, *, now: datetime, unit_id: int | None
) -> list[tuple[int, str, int, list[str]]]:
    """Repost tasks of the last 30 days past their deadline with accounts still pending."""
    found = await repost_tasks.overdue(
        session, now=now, since=now - REPOST_OVERDUE_SHOWN, unit_id=unit_id
    )
    return [
        (task.id or 0, task.title[:60], len(accounts), [a.name for a in accounts[:NAMES_SHOWN]])
        for task, accounts in found[:NAMES_SHOWN]
    ]


async def late_reviews(session: AsyncSession, *, now: datetime, unit_id: int | None) -> int:
    """Drafts whose current review stage is past its time limit."""
    stmt = select(Review).where(Review.status == ReviewStatus.IN_REVIEW)
    if unit_id:
        stmt = stmt.where(Review.unit_id == unit_id)
    return sum(
        1
        for review in await session.exec(stmt)
        if now >= deadline(review.stage_started_at, review.stage.sla_hours)
    )


async def daily_digest(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """The admins' morning digest of the last 24 hours; returns messages queued."""
    now = clock.now()
    label = now.astimezone(settings.tz).date().isoformat()
    async with sessionmaker() as session:
        figures = await gather(
            session, start=now - timedelta(days=1), end=now, period="daily", label=label
        )
        queued = await notify(
            session,
            figures,
            to=To.of(Audience.OFFICE),
            now=now,
            alert_chat_id=settings.alert_chat_id,
        )
        await session.commit()
    logger.info("daily digest {}: {} queued", label, queued)
    return queued


async def weekly_digest(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock, settings: Settings
) -> int:
    """Each unit manager's weekly digest of their unit; returns messages queued."""
    now = clock.now()
    year, week, _day = now.astimezone(settings.tz).isocalendar()
    label = f"{year}-W{week:02d}"
    queued = 0
    async with sessionmaker() as session:
        managers = await people.users_with_role(session, role=Role.UNIT_MANAGER)
        for unit_id in sorted({m.unit_id for m in managers if m.unit_id is not None}):
            figures = await gather(
                session,
                start=now - timedelta(days=7),
                end=now,
                unit_id=unit_id,
                period="weekly",
                label=label,
            )
            queued += await notify(
                session, figures, to=To.of(Audience.UNIT_MANAGERS, unit_id=unit_id), now=now
            )
        await session.commit()
    logger.info("weekly digest {}: {} queued", label, queued)
    return queued
