"""Decisions on a draft: an approver's decision and its transition, withdrawal, the approver's
queue (opened cards, bulk approval)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import PermissionDenied, StaleAction
from governance.i18n import N_
from governance.review import (
    OPEN_STATUSES,
    Decision,
    ReviewStatus,
    StageState,
    Step,
    Transition,
    check_open,
    may_approve_stage,
    transition,
    validate_comment,
)
from governance.roles import Actor
from models.people import User
from models.reviews import (
    Review,
    ReviewAssignment,
    ReviewDecision,
    assignments,
    decisions,
    lock,
)
from models.routes import delegate_of, stage_people
from workflows.notices import (
    Approved,
    Progress,
    Rejected,
    Returned,
)
from workflows.reviews.common import audit_review, snapshot
from workflows.reviews.stages import (
    about_review,
    close_cards,
    enter_stage,
    handled_stages,
    tell_submitter,
)

# --- decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decided:
    review: Review
    decision: Decision
    transition: Transition
    stage_name: str


COMMENT_LABELS = {
    Decision.APPROVE: N_("审核意见"),
    Decision.RETURN: N_("退回理由"),
    Decision.REJECT: N_("驳回理由"),
}


async def check_assignee(
    session: AsyncSession, *, actor: Actor, review: Review, round: int, now: datetime
) -> ReviewAssignment:
    """Who may decide is read from the database at press time, never from the button."""
    check_open(review.status, round_now=review.round, round_pressed=round)
    if not actor.active:
        raise PermissionDenied(N_("你的账号已被停用，如有疑问请联系管理员。"))
    if actor.user_id == review.submitter_id:
        raise PermissionDenied(N_("不能审核自己提交的稿件。"))
    row = (
        await session.exec(
            select(ReviewAssignment).where(
                ReviewAssignment.review_id == review.id,
                ReviewAssignment.round == review.round,
                ReviewAssignment.user_id == actor.user_id,
            )
        )
    ).first()
    if row is None:
        raise PermissionDenied(N_("你不是该稿件当前环节的审核人。"))
    if row.on_behalf_of is not None:
        # A delegation ends at its time or when revoked: the card re-checks it at press time.
        stand_in = await delegate_of(session, user_id=row.on_behalf_of, now=now)
        if stand_in is None or stand_in.id != actor.user_id:
            raise PermissionDenied(N_("代审已结束或已撤回，你不能再代为审核该稿件。"))
    # The card went out earlier; the role may have been taken away since: check it again now.
    pool = await stage_people(session, spec=review.stage, unit_id=review.unit_id)
    if (row.on_behalf_of or actor.user_id) not in pool:
        raise PermissionDenied(N_("你已不再担任该环节的审核人，如有疑问请联系单位管理员。"))
    handled = await handled_stages(session, review.id or 0)
    if not may_approve_stage(
        actor.user_id,
        stage_index=review.stage_index,
        submitter_id=review.submitter_id,
        decided_stages=handled,
        on_behalf_of=row.on_behalf_of,
    ):
        raise PermissionDenied(N_("同一人不能审核同一稿件的两个环节。"))
    done = await session.exec(
        select(ReviewDecision.id).where(
            ReviewDecision.review_id == review.id,
            ReviewDecision.round == review.round,
            ReviewDecision.user_id == actor.user_id,
        )
    )
    if done.first() is not None:
        raise StaleAction(N_("已处理：你已对该环节作出决定。"))
    return row


async def decide(
    session: AsyncSession,
    *,
    actor: Actor,
    review_id: int,
    round: int,
    decision: Decision,
    comment: str | None,
    now: datetime,
    tz: ZoneInfo,
) -> Decided:
    """Record one decision exactly once and apply what it causes."""
    review = await lock(session, review_id)
    assignment = await check_assignee(session, actor=actor, review=review, round=round, now=now)
    comment = validate_comment(
        comment, label=COMMENT_LABELS[decision], required=decision is not Decision.APPROVE
    )
    spec = review.stage
    before = snapshot(review)
    session.add(
        ReviewDecision(
            review_id=review.id or 0,
            round=review.round,
            stage_index=review.stage_index,
            stage_name=spec.name,
            draft_version=review.draft_version,
            user_id=actor.user_id,
            on_behalf_of=assignment.on_behalf_of,
            decision=decision,
            comment=comment,
            at=now,
        )
    )
    await session.flush()
    round_rows = await assignments(session, review_id=review.id or 0, round=review.round)
    approved = {
        d.user_id
        for d in await decisions(session, review.id or 0)
        if d.round == review.round and d.decision == Decision.APPROVE
    }
    approved.discard(actor.user_id)
    state = StageState(
        rule=spec.rule, required=frozenset(a.user_id for a in round_rows), approved=approved
    )
    step = transition(
        decision=decision,
        user_id=actor.user_id,
        stage_index=review.stage_index,
        stage_count=len(review.specs),
        state=state,
    )
    me = await session.get(User, actor.user_id)
    by = me.name if me else ""
    await audit_review(
        session,
        review,
        action=f"review.{decision.value}",
        actor_id=actor.user_id,
        now=now,
        before=before,
        extra={
            "stage": spec.name,
            "user_id": actor.user_id,
            "on_behalf_of": assignment.on_behalf_of,
            "comment": comment,
        },
    )
    if step.step is not Step.WAIT:
        outcome = {
            Step.NEXT_STAGE: "approved",
            Step.APPROVED: "approved",
            Step.RETURNED: "returned",
            Step.REJECTED: "rejected",
        }[step.step]
        await close_cards(
            session, review, outcome=outcome, by=by, now=now, skip_user_ids={actor.user_id}
        )
    await _apply(session, review, step=step, by=by, comment=comment, now=now, tz=tz)
    return Decided(review=review, decision=decision, transition=step, stage_name=spec.name)


async def _apply(
    session: AsyncSession,
    review: Review,
    *,
    step: Transition,
    by: str,
    comment: str | None,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    stage_name = review.stage.name
    review.updated_at = now
    if step.step is Step.WAIT:
        session.add(review)
        await session.flush()
        return
    if step.step is Step.NEXT_STAGE:
        before = snapshot(review)
        review.stage_index = step.stage_index
        review.round += 1
        await tell_submitter(
            session,
            review,
            Progress(**about_review(review), passed=stage_name, next=review.stage.name, by=by),
            now=now,
        )
        await audit_review(
            session, review, action="review.stage_passed", actor_id=None, now=now, before=before
        )
        await enter_stage(session, review, now=now, tz=tz)
        return
    status = {
        Step.APPROVED: ReviewStatus.APPROVED,
        Step.RETURNED: ReviewStatus.RETURNED,
        Step.REJECTED: ReviewStatus.REJECTED,
    }[step.step]
    review.status = status
    if status is not ReviewStatus.RETURNED:
        review.decided_at = now
    session.add(review)
    await session.flush()
    told = {
        ReviewStatus.APPROVED: Approved,
        ReviewStatus.RETURNED: Returned,
        ReviewStatus.REJECTED: Rejected,
    }[status]
    await tell_submitter(
        session,
        review,
        told(**about_review(review), stage=stage_name, by=by, reason=comment or ""),
        now=now,
    )


# --- the submitter withdraws; the planned time passes ------------------------------------------


async def withdraw(session: AsyncSession, *, actor: Actor, review_id: int, now: datetime) -> Review:
    review = await lock(session, review_id)
    if review.submitter_id != actor.user_id:
        raise PermissionDenied(N_("只有提交人可以撤回送审稿。"))
    if review.status not in OPEN_STATUSES:
        raise StaleAction(N_("该稿件已有结论，不能撤回。"))
    await close_review(
        session, review, status=ReviewStatus.WITHDRAWN, actor_id=actor.user_id, now=now
    )
    return review


async def close_review(
    session: AsyncSession,
    review: Review,
    *,
    status: ReviewStatus,
    actor_id: int | None,
    now: datetime,
) -> None:
    before = snapshot(review)
    if review.status == ReviewStatus.IN_REVIEW:
        await close_cards(
            session, review, outcome=status.value, by="", now=now, skip_user_ids=set()
        )
    review.status = status
    review.decided_at = review.updated_at = now
    session.add(review)
    await session.flush()
    await audit_review(
        session, review, action=f"review.{status.value}", actor_id=actor_id, now=now, before=before
    )


# --- the approver's queue ----------------------------------------------------------------------


async def mark_opened(
    session: AsyncSession, *, actor: Actor, review_id: int, now: datetime
) -> ReviewAssignment:
    """The approver looked at the draft (copies re-sent from /pending): bulk approval may
    include it from now on."""
    review = await session.get(Review, review_id)
    if review is None:
        raise StaleAction(N_("已处理：该稿件已进入下一步或已结束。"))
    row = await check_assignee(session, actor=actor, review=review, round=review.round, now=now)
    if row.opened_at is None:
        row.opened_at = now
        session.add(row)
        await session.flush()
    return row


async def bulk_approve(
    session: AsyncSession, *, actor: Actor, now: datetime, tz: ZoneInfo
) -> list[Decided]:
    """Approve every draft of the person's queue they have opened; skip what moved on."""
    from models.reviews import queue

    done = []
    for item in await queue(session, user_id=actor.user_id):
        if item.assignment.opened_at is None:
            continue
        try:
            done.append(
                await decide(
                    session,
                    actor=actor,
                    review_id=item.review.id or 0,
                    round=item.review.round,
                    decision=Decision.APPROVE,
                    comment=None,
                    now=now,
                    tz=tz,
                )
            )
        except (StaleAction, PermissionDenied):
            continue
    return done
