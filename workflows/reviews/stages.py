"""Entering a stage: the approvers' cards (or their delegates'), closing the other cards of a
round, telling the submitter, reporting a stage nobody can staff."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance import textdiff
from governance.alerts import Audience
from governance.drafttext import Place, Spot
from governance.precheck import checked_text
from governance.review import (
    Participation,
    ReviewStatus,
    deadline,
    handled_by_person,
    may_approve_stage,
)
from governance.vocabulary import Category
from models import people
from models.accounts import Account
from models.people import User
from models.reviews import (
    Review,
    ReviewAssignment,
    ReviewDecision,
    assignments,
    decisions,
    parts_of,
    version,
)
from models.routes import delegate_of, stage_people
from workflows.audience import To
from workflows.notices import (
    CardClosed,
    CardFinding,
    ReviewCard,
    Stuck,
    ToSubmitter,
)
from workflows.notify import enqueue, notify
from workflows.reviews.common import (
    audit_review,
    card_findings,
    shown_time,
    stored_finding,
    stored_place,
    users_by_id,
)

# --- stages and cards ------------------------------------------------------------------------


async def handled_stages(session: AsyncSession, review_id: int) -> dict[int, set[int]]:
    """Who took part in which stage; acting on behalf of someone counts for both people."""
    return handled_by_person(
        Participation(d.user_id, d.on_behalf_of, d.stage_index)
        for d in await decisions(session, review_id)
    )


async def enter_stage(
    session: AsyncSession, review: Review, *, now: datetime, tz: ZoneInfo
) -> list[ReviewAssignment]:
    """Ask the current stage's eligible people (or their delegates) by card.

    With nobody eligible the stage is stuck: the unit manager and the admins are told, and the
    reminder job tries again (someone may have been given the role meanwhile).
    """
    spec = review.stage
    review.stage_started_at = now
    session.add(review)
    handled = await handled_stages(session, review.id or 0)
    pool = sorted(await stage_people(session, spec=spec, unit_id=review.unit_id))

    def eligible(user_id: int) -> bool:
        return may_approve_stage(
            user_id,
            stage_index=review.stage_index,
            submitter_id=review.submitter_id,
            decided_stages=handled,
        )

    chosen: list[tuple[int, int | None]] = []
    for user_id in filter(eligible, pool):
        stand_in = await delegate_of(session, user_id=user_id, now=now)
        if stand_in is not None and stand_in.id not in pool and eligible(stand_in.id or 0):
            chosen.append((stand_in.id or 0, user_id))
        else:
            chosen.append((user_id, None))
    if not chosen:
        await report_stuck(session, review, now=now)
        return []
    made = []
    for user_id, behalf in chosen:
        row = ReviewAssignment(
            review_id=review.id or 0,
            round=review.round,
            stage_index=review.stage_index,
            user_id=user_id,
            on_behalf_of=behalf,
            created_at=now,
        )
        session.add(row)
        made.append(row)
    await session.flush()
    card = await card_notice(session, review, tz=tz)
    wanted: set[int | None] = {a.user_id for a in made}
    who = await users_by_id(session, wanted | {a.on_behalf_of for a in made})
    for row in made:
        person = who[row.user_id]
        behalf_name = who[row.on_behalf_of].name if row.on_behalf_of else ""
        queued = await enqueue(
            session,
            replace(card, on_behalf_of=behalf_name),
            chat_id=person.telegram_id,
            now=now,
        )
        row.card_outbox_id = queued.id if queued else None
        session.add(row)
    await session.flush()
    await audit_review(
        session,
        review,
        action="review.stage_entered",
        actor_id=None,
        now=now,
        extra={
            "stage": spec.name,
            "assignees": [{"user_id": u, "on_behalf_of": b} for u, b in chosen],
        },
    )
    return made


async def hand_back(
    session: AsyncSession, *, principal: User, delegate_id: int, now: datetime, tz: ZoneInfo
) -> int:
    """A revoked delegation: the undecided cards the delegate holds for ``principal`` go back
    to ``principal`` (the delegate's old card then answers that the delegation ended)."""
    rows = await session.exec(
        select(ReviewAssignment, Review)
        .join(Review, col(Review.id) == col(ReviewAssignment.review_id))
        .where(
            ReviewAssignment.on_behalf_of == principal.id,
            ReviewAssignment.user_id == delegate_id,
            Review.status == ReviewStatus.IN_REVIEW,
            col(ReviewAssignment.round) == col(Review.round),
            col(ReviewAssignment.stage_index) == col(Review.stage_index),
        )
    )
    handed = 0
    for row, review in rows.all():
        taken = await session.exec(
            select(ReviewDecision.id).where(
                ReviewDecision.review_id == row.review_id,
                ReviewDecision.round == row.round,
                ReviewDecision.user_id == delegate_id,
            )
        )
        own = await session.exec(
            select(ReviewAssignment.id).where(
                ReviewAssignment.review_id == row.review_id,
                ReviewAssignment.round == row.round,
                ReviewAssignment.user_id == principal.id,
            )
        )
        if taken.first() is not None or own.first() is not None:
            continue
        row.user_id = principal.id or 0
        row.on_behalf_of = None
        row.opened_at = None
        queued = await enqueue(
            session,
            await card_notice(session, review, tz=tz),
            chat_id=principal.telegram_id,
            now=now,
        )
        row.card_outbox_id = queued.id if queued else None
        session.add(row)
        handed += 1
    await session.flush()
    return handed


async def card_notice(
    session: AsyncSession, review: Review, *, tz: ZoneInfo, on_behalf_of: str = ""
) -> ReviewCard:
    """Everything an approver's card shows, fixed when the card is queued."""
    account = await session.get(Account, review.account_id)
    submitter = await session.get(User, review.submitter_id)
    current = await version(session, review_id=review.id or 0, number=review.draft_version)
    parts = await parts_of(session, current.id or 0)
    text = checked_text(current.title, current.body)
    found = [stored_finding(f) for f in current.findings]
    diff: list[tuple[str, str]] = []
    if review.draft_version > 1:
        previous = await version(session, review_id=review.id or 0, number=review.draft_version - 1)
        ops = textdiff.diff(previous.body, current.body)
        diff.extend(textdiff.compact(ops)[:40])
    shown = card_findings(text, found, places=[stored_place(f) for f in current.findings])
    # files sent before drafts' files were read: say so rather than let the card pass them
    unread = [
        CardFinding(
            category=Category.UNREADABLE,
            rule="draft.not_read",
            place=Place(Spot.FILE, p.file_name or ""),
        )
        for p in parts
        if p.kind == "document" and p.extracted is None
    ]
    spec = review.stage
    return ReviewCard(
        review_id=review.id or 0,
        round=review.round,
        number=review.number,
        title=review.title,
        account=account.name if account else "",
        platform=account.platform if account else "",
        submitter=submitter.name if submitter else "",
        stage=spec.name,
        stage_no=review.stage_index + 1,
        stage_count=len(review.specs),
        rule=spec.rule.value,
        deadline=shown_time(deadline(review.stage_started_at, spec.sla_hours), tz),
        planned_at=shown_time(review.planned_at, tz),
        version=review.draft_version,
        finding_count=len(found) + len(unread),
        findings=unread + shown,
        diff=diff,
        copies=[(p.chat_id, p.message_id) for p in parts],
        on_behalf_of=on_behalf_of,
    )


async def close_cards(
    session: AsyncSession,
    review: Review,
    *,
    outcome: str,
    by: str,
    now: datetime,
    skip_user_ids: set[int],
) -> None:
    """Tell the others of this round their card is done with (any: "已由 X 通过")."""
    done = {d.user_id for d in await decisions(session, review.id or 0) if d.round == review.round}
    rows = await assignments(session, review_id=review.id or 0, round=review.round)
    who = await users_by_id(session, {r.user_id for r in rows})
    for row in rows:
        if row.user_id in skip_user_ids or row.user_id in done or row.card_outbox_id is None:
            continue
        await enqueue(
            session,
            CardClosed(
                ref=row.card_outbox_id,
                review_id=review.id or 0,
                round=review.round,
                number=review.number,
                title=review.title,
                stage=review.stage.name,
                outcome=outcome,
                by=by,
            ),
            chat_id=who[row.user_id].telegram_id,
            now=now,
        )


def about_review(review: Review) -> dict[str, Any]:
    """The fields every notice to a draft's submitter starts with."""
    return {
        "review_id": review.id or 0,
        "round": review.round,
        "number": review.number,
        "title": review.title,
    }


async def tell_submitter(
    session: AsyncSession, review: Review, notice: ToSubmitter, *, now: datetime
) -> None:
    submitter = await session.get(User, review.submitter_id)
    if submitter is not None:
        await enqueue(session, notice, chat_id=submitter.telegram_id, now=now)


async def report_stuck(session: AsyncSession, review: Review, *, now: datetime) -> None:
    """Nobody can staff the stage: the unit's managers and each admin are told (they can
    change the route or the people)."""
    unit = await people.get_unit(session, review.unit_id)
    stuck = Stuck(
        review_id=review.id or 0,
        round=review.round,
        number=review.number,
        title=review.title,
        stage=review.stage.name,
        unit=unit.name,
    )
    queued = await notify(
        session,
        stuck,
        to=To.of(Audience.UNIT_MANAGERS, Audience.EACH_ADMIN, unit_id=review.unit_id),
        now=now,
    )
    if queued:
        await audit_review(
            session,
            review,
            action="review.stuck",
            actor_id=None,
            now=now,
            extra={"stage": review.stage.name},
        )
