"""Time-driven review work: expiry at the planned publish time, reminders, escalation."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.alerts import Audience
from governance.review import (
    OPEN_STATUSES,
    ReviewStatus,
    deadline,
    halfway,
)
from models.accounts import Account
from models.reviews import (
    Review,
    assignments,
    decisions,
    lock,
)
from workflows.audience import To
from workflows.notices import (
    Escalated,
    Expired,
    Reminder,
)
from workflows.notify import enqueue, notify
from workflows.reviews.common import audit_review, shown_time, snapshot, users_by_id
from workflows.reviews.decide import close_review
from workflows.reviews.stages import (
    about_review,
    enter_stage,
    tell_submitter,
)


async def expire_due(session: AsyncSession, *, now: datetime, tz: ZoneInfo) -> list[str]:
    """Undecided drafts whose planned publish time has passed expire, and say so."""
    rows = await session.exec(
        select(Review.id).where(
            col(Review.status).in_([s.value for s in OPEN_STATUSES]),
            col(Review.planned_at).is_not(None),
            col(Review.planned_at) <= now,
        )
    )
    expired = []
    for review_id in list(rows):
        review = await lock(session, review_id or 0)
        if ReviewStatus(review.status) not in OPEN_STATUSES:
            continue
        await close_review(session, review, status=ReviewStatus.EXPIRED, actor_id=None, now=now)
        await tell_submitter(
            session,
            review,
            Expired(**about_review(review), planned_at=shown_time(review.planned_at, tz)),
            now=now,
        )
        expired.append(review.number)
    return expired


# --- reminders and escalation ------------------------------------------------------------------


async def remind_due(
    session: AsyncSession,
    *,
    now: datetime,
    tz: ZoneInfo,
    escalate_after: timedelta,
    alert_chat_id: int | None,
) -> int:
    """Half the time limit: a reminder; the deadline: another; past it: the unit manager and the
    admins' alert chat are told. Each is queued once (dedup keys); stuck stages are retried."""
    rows = await session.exec(select(Review).where(Review.status == ReviewStatus.IN_REVIEW.value))
    queued = 0
    for review in list(rows):
        current = await assignments(session, review_id=review.id or 0, round=review.round)
        if not current:
            await enter_stage(session, review, now=now, tz=tz)
            continue
        spec = review.stage
        due = deadline(review.stage_started_at, spec.sla_hours)
        decided = {
            d.user_id for d in await decisions(session, review.id or 0) if d.round == review.round
        }
        waiting = [a for a in current if a.user_id not in decided]
        users = await users_by_id(session, {a.user_id for a in waiting})
        marks = []
        if now >= halfway(review.stage_started_at, spec.sla_hours):
            marks.append("half")
        if now >= due:
            marks.append("due")
        for mark in marks:
            for row in waiting:
                person = users.get(row.user_id)
                if person is None:
                    continue
                reminder = Reminder(
                    review_id=review.id or 0,
                    round=review.round,
                    number=review.number,
                    title=review.title,
                    stage=spec.name,
                    deadline=shown_time(due, tz),
                    due=mark == "due",
                )
                queued += (
                    await enqueue(session, reminder, chat_id=person.telegram_id, now=now)
                    is not None
                )
        if now >= due + escalate_after and review.escalated_round != review.round:
            queued += await _escalate(
                session,
                review,
                waiting=[users[a.user_id].name for a in waiting if a.user_id in users],
                due=due,
                now=now,
                tz=tz,
                alert_chat_id=alert_chat_id,
            )
    return queued


async def _escalate(
    session: AsyncSession,
    review: Review,
    *,
    waiting: list[str],
    due: datetime,
    now: datetime,
    tz: ZoneInfo,
    alert_chat_id: int | None,
) -> int:
    """Past the deadline by ``escalate_after``: the unit's managers and the alert chat are told
    (each admin when the unit has no manager and there is no alert chat)."""
    account = await session.get(Account, review.account_id)
    escalated = Escalated(
        review_id=review.id or 0,
        round=review.round,
        number=review.number,
        title=review.title,
        account=account.name if account else "",
        stage=review.stage.name,
        deadline=shown_time(due, tz),
        waiting=waiting,
    )
    queued = await notify(
        session,
        escalated,
        to=To.of(
            Audience.UNIT_MANAGERS,
            Audience.ALERT_CHAT,
            unit_id=review.unit_id,
            fallback=[Audience.OFFICE],
        ),
        now=now,
        alert_chat_id=alert_chat_id,
    )
    before = snapshot(review)
    review.escalated_round = review.round
    session.add(review)
    await session.flush()
    await audit_review(
        session, review, action="review.escalated", actor_id=None, now=now, before=before
    )
    return queued
