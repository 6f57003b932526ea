"""The review workflow applied to the database: submit, decide, resubmit, withdraw, expire,
remind and escalate. Every change is audited and every message goes through the outbox.

Which transition a decision causes is decided by :mod:`governance.review`; this module loads the
facts, applies the outcome and queues the cards and notices (rendered by ``handlers``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance import textdiff
from governance.errors import InvalidInput, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.precheck import blocking, checked_text, precheck, snippets, to_json
from governance.quality import Checker, Finding
from governance.registry import LIVE_STATUSES, AccountStatus
from governance.review import (
    OPEN_STATUSES,
    Decision,
    ReviewStatus,
    StageState,
    Step,
    Transition,
    check_open,
    deadline,
    halfway,
    may_approve_stage,
    restart_stage,
    review_number,
    transition,
    validate_comment,
    validate_title,
)
from governance.roles import Actor, Role, can_submit_draft
from governance.vocabulary import Category, Severity
from models import audit, outbox, people
from models.accounts import Account
from models.people import User
from models.reviews import (
    Review,
    ReviewAssignment,
    ReviewDecision,
    ReviewPart,
    ReviewVersion,
    assignments,
    body_of,
    decisions,
    draft_parts,
    lock,
    next_seq,
    parts_of,
    version,
)
from models.routes import check_route, delegate_of, effective_route, stage_people

CARD_FINDINGS_MAX = 8


def _fmt(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def _snapshot(review: Review) -> dict[str, Any]:
    return {
        "status": review.status,
        "stage_index": review.stage_index,
        "round": review.round,
        "draft_version": review.draft_version,
    }


async def _audit(
    session: AsyncSession,
    review: Review,
    *,
    action: str,
    actor_id: int | None,
    now: datetime,
    before: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    note: str | None = None,
) -> None:
    await audit.record(
        session,
        at=now,
        actor_id=actor_id,
        action=action,
        object_type="review",
        object_id=review.id,
        before=before,
        after={**_snapshot(review), **(extra or {})},
        note=note,
    )


# --- the draft before it is routed -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prechecked:
    text: str
    body: str
    findings: list[Finding]
    parts: list[ReviewPart]

    @property
    def has_media(self) -> bool:
        return any(p.kind != "text" for p in self.parts)


async def precheck_draft(
    session: AsyncSession,
    *,
    owner_id: int,
    draft_key: str,
    title: str,
    checker: Checker,
    max_chars: int,
) -> Prechecked:
    parts = await draft_parts(session, owner_id=owner_id, draft_key=draft_key)
    body = body_of(parts)
    text = checked_text(title, body)
    has_media = any(p.kind != "text" for p in parts)
    if not parts:  # a title alone is no draft
        found = precheck("", checker=checker)
    else:
        found = precheck(text, checker=checker, has_media=has_media, max_chars=max_chars)
    return Prechecked(text=text, body=body, findings=found, parts=parts)


async def submittable_accounts(session: AsyncSession, *, actor: Actor) -> list[Account]:
    if not can_submit_draft(actor):
        return []
    rows = await session.exec(
        select(Account)
        .where(
            Account.unit_id == actor.unit_id,
            col(Account.status).in_([s.value for s in LIVE_STATUSES - {AccountStatus.PENDING}]),
        )
        .order_by(col(Account.id))
    )
    return list(rows)


async def _submit_account(session: AsyncSession, *, actor: Actor, account_id: int) -> Account:
    if not can_submit_draft(actor):
        raise PermissionDenied(N_("只有单位人员可以提交送审稿。"))
    account = await session.get(Account, account_id)
    if account is None or account.unit_id != actor.unit_id:
        raise PermissionDenied(N_("只能为本单位的账号提交送审稿。"))
    if account.status not in LIVE_STATUSES - {AccountStatus.PENDING}:
        raise InvalidInput(N_("该账号当前不在用，不能提交送审稿。"))
    return account


async def check_can_submit(session: AsyncSession, *, actor: Actor, account_id: int) -> Account:
    """Refuse early (when the account is chosen) what would be refused at submission."""
    account = await _submit_account(session, actor=actor, account_id=account_id)
    route = await effective_route(session, account)
    if route is None:
        raise InvalidInput(
            N_("账号“{name}”所属单位尚未设置审核流程，请联系单位管理员用 /routes 设置。"),
            name=account.name,
        )
    await check_route(
        session, stages=route.specs, unit_id=account.unit_id, exclude=frozenset({actor.user_id})
    )
    return account


async def submit(
    session: AsyncSession,
    *,
    actor: Actor,
    account_id: int,
    title: str,
    planned_at: datetime | None,
    draft_key: str,
    checker: Checker,
    max_chars: int,
    prefix: str,
    now: datetime,
    tz: ZoneInfo,
) -> Review:
    """File a draft as review SH-YYYY-NNNN (version 1) and send stage 1's cards."""
    account = await check_can_submit(session, actor=actor, account_id=account_id)
    route = await effective_route(session, account)
    assert route is not None
    title = validate_title(title)
    if planned_at is not None and planned_at <= now:
        raise InvalidInput(N_("计划发布时间已过，请重新设定。"))
    checked = await precheck_draft(
        session,
        owner_id=actor.user_id,
        draft_key=draft_key,
        title=title,
        checker=checker,
        max_chars=max_chars,
    )
    if blocking(checked.findings):
        raise InvalidInput(N_("稿件为空：请先发送稿件内容，再点“完成”。"))
    year = now.astimezone(tz).year
    seq = await next_seq(session, year=year)
    review = Review(
        number=review_number(prefix, year, seq),
        year=year,
        seq=seq,
        account_id=account.id or 0,
        unit_id=account.unit_id,
        submitter_id=actor.user_id,
        title=title,
        status=ReviewStatus.IN_REVIEW,
        route=[s.to_dict() for s in route.specs],
        restart_from_first=route.restart_from_first,
        stage_started_at=now,
        planned_at=planned_at,
        created_at=now,
        updated_at=now,
        submission_key=draft_key,
    )
    session.add(review)
    await session.flush()
    await _add_version(session, review, checked=checked, title=title, now=now)
    await _audit(
        session,
        review,
        action="review.submitted",
        actor_id=actor.user_id,
        now=now,
        extra={"number": review.number, "title": title, "account_id": account.id},
    )
    await enter_stage(session, review, now=now, tz=tz)
    return review


async def _add_version(
    session: AsyncSession, review: Review, *, checked: Prechecked, title: str, now: datetime
) -> ReviewVersion:
    row = ReviewVersion(
        review_id=review.id or 0,
        number=review.draft_version,
        title=title,
        body=checked.body,
        findings=to_json(checked.findings),
        has_media=checked.has_media,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    for part in checked.parts:
        part.version_id = row.id
        session.add(part)
    await session.flush()
    return row


async def resubmit(
    session: AsyncSession,
    *,
    actor: Actor,
    review_id: int,
    draft_key: str,
    checker: Checker,
    max_chars: int,
    now: datetime,
    tz: ZoneInfo,
) -> Review:
    """A returned draft comes back as a new version and restarts the route (stage 1 or the
    stage that returned it, as the route says)."""
    review = await lock(session, review_id)
    if review.submitter_id != actor.user_id:
        raise PermissionDenied(N_("只有提交人可以提交修改稿。"))
    if review.status != ReviewStatus.RETURNED:
        raise StaleAction(N_("该稿件当前不是“已退回修改”状态，不能提交修改稿。"))
    checked = await precheck_draft(
        session,
        owner_id=actor.user_id,
        draft_key=draft_key,
        title=review.title,
        checker=checker,
        max_chars=max_chars,
    )
    if blocking(checked.findings):
        raise InvalidInput(N_("稿件为空：请先发送稿件内容，再点“完成”。"))
    before = _snapshot(review)
    review.draft_version += 1
    review.stage_index = restart_stage(
        returned_at=review.stage_index, restart_from_first=review.restart_from_first
    )
    review.round += 1
    review.status = ReviewStatus.IN_REVIEW
    review.updated_at = now
    session.add(review)
    await _add_version(session, review, checked=checked, title=review.title, now=now)
    await _audit(
        session, review, action="review.resubmitted", actor_id=actor.user_id, now=now, before=before
    )
    await enter_stage(session, review, now=now, tz=tz)
    return review


# --- stages and cards ------------------------------------------------------------------------


async def _handled_stages(session: AsyncSession, review_id: int) -> dict[int, set[int]]:
    handled: dict[int, set[int]] = {}
    for d in await decisions(session, review_id):
        handled.setdefault(d.user_id, set()).add(d.stage_index)
    return handled


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
    handled = await _handled_stages(session, review.id or 0)
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
        await _report_stuck(session, review, now=now)
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
    params = await card_params(session, review, tz=tz)
    who = await _users(session, {a.user_id for a in made} | {a.on_behalf_of for a in made})
    for row in made:
        person = who[row.user_id]
        behalf_name = who[row.on_behalf_of].name if row.on_behalf_of else ""
        queued = await outbox.enqueue(
            session,
            chat_id=person.telegram_id,
            kind="review.card",
            params={**params, "on_behalf_of": behalf_name},
            now=now,
            dedup_key=f"review.card:{review.id}:{review.round}:{row.user_id}",
        )
        row.card_outbox_id = queued.id if queued else None
        session.add(row)
    await session.flush()
    await _audit(
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


async def _users(session: AsyncSession, ids: set[int | None]) -> dict[int, User]:
    wanted = [i for i in ids if i is not None]
    rows = await session.exec(select(User).where(col(User.id).in_(wanted))) if wanted else []
    return {u.id: u for u in rows if u.id is not None}


async def card_params(session: AsyncSession, review: Review, *, tz: ZoneInfo) -> dict[str, Any]:
    """Everything an approver's card shows, fixed when the card is queued."""
    account = await session.get(Account, review.account_id)
    submitter = await session.get(User, review.submitter_id)
    current = await version(session, review_id=review.id or 0, number=review.draft_version)
    parts = await parts_of(session, current.id or 0)
    text = checked_text(current.title, current.body)
    found = [_finding(f) for f in current.findings]
    diff: list[list[str]] = []
    if review.draft_version > 1:
        previous = await version(session, review_id=review.id or 0, number=review.draft_version - 1)
        ops = textdiff.diff(previous.body, current.body)
        diff = [[op, chunk] for op, chunk in textdiff.compact(ops)][:40]
    spec = review.stage
    return {
        "review_id": review.id,
        "round": review.round,
        "number": review.number,
        "title": review.title,
        "account": account.name if account else "",
        "platform": account.platform if account else "",
        "submitter": submitter.name if submitter else "",
        "stage": spec.name,
        "stage_no": review.stage_index + 1,
        "stage_count": len(review.specs),
        "rule": spec.rule.value,
        "deadline": _fmt(deadline(review.stage_started_at, spec.sla_hours), tz),
        "planned_at": _fmt(review.planned_at, tz),
        "version": review.draft_version,
        "finding_count": len(found),
        "findings": [
            {
                "category": s.category,
                "severity": s.severity,
                "before": s.before,
                "hit": s.hit,
                "after": s.after,
                "suggestion": s.suggestion,
            }
            for s in snippets(text, found[:CARD_FINDINGS_MAX])
        ],
        "diff": diff,
        "copies": [[p.chat_id, p.message_id] for p in parts],
    }


def _finding(raw: dict[str, Any]) -> Finding:
    # Stored findings already hold the masked text; Finding.shown then keeps it as it is.
    return Finding(
        Category(raw["category"]),
        Severity(raw["severity"]),
        int(raw["start"]),
        int(raw["end"]),
        raw.get("text") or "",
        raw.get("text") if raw["category"] == "pii" else raw.get("suggestion"),
        raw.get("rule") or "",
    )


async def _close_cards(
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
    who = await _users(session, {r.user_id for r in rows})
    for row in rows:
        if row.user_id in skip_user_ids or row.user_id in done or row.card_outbox_id is None:
            continue
        await outbox.enqueue(
            session,
            chat_id=who[row.user_id].telegram_id,
            kind="review.card_closed",
            params={
                "ref": row.card_outbox_id,
                "number": review.number,
                "title": review.title,
                "stage": review.stage.name,
                "outcome": outcome,
                "by": by,
            },
            now=now,
            dedup_key=f"review.closed:{review.id}:{review.round}:{row.user_id}",
        )


async def _tell_submitter(
    session: AsyncSession, review: Review, *, kind: str, params: dict[str, Any], now: datetime
) -> None:
    submitter = await session.get(User, review.submitter_id)
    if submitter is None:
        return
    await outbox.enqueue(
        session,
        chat_id=submitter.telegram_id,
        kind=kind,
        params={"review_id": review.id, "number": review.number, "title": review.title, **params},
        now=now,
        dedup_key=f"{kind}:{review.id}:{review.round}",
    )


async def _report_stuck(session: AsyncSession, review: Review, *, now: datetime) -> None:
    unit = await people.get_unit(session, review.unit_id)
    params = {
        "review_id": review.id,
        "number": review.number,
        "title": review.title,
        "stage": review.stage.name,
        "unit": unit.name,
    }
    queued = 0
    for person in await _managers_and_admins(session, review.unit_id):
        queued += (
            await outbox.enqueue(
                session,
                chat_id=person.telegram_id,
                kind="review.stuck",
                params=params,
                now=now,
                dedup_key=f"review.stuck:{review.id}:{review.round}:{person.id}",
            )
            is not None
        )
    if queued:
        await _audit(
            session,
            review,
            action="review.stuck",
            actor_id=None,
            now=now,
            extra={"stage": review.stage.name},
        )


async def _managers_and_admins(session: AsyncSession, unit_id: int) -> list[User]:
    found: dict[int, User] = {}
    for user in await people.users_with_role(session, role=Role.UNIT_MANAGER, unit_id=unit_id):
        found[user.id or 0] = user
    for user in await people.users_with_role(session, role=Role.ADMIN):
        found[user.id or 0] = user
    return list(found.values())


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
    session: AsyncSession, *, actor: Actor, review: Review, round: int
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
    # The card went out earlier; the role may have been taken away since: check it again now.
    pool = await stage_people(session, spec=review.stage, unit_id=review.unit_id)
    if (row.on_behalf_of or actor.user_id) not in pool:
        raise PermissionDenied(N_("你已不再担任该环节的审核人，如有疑问请联系单位管理员。"))
    handled = await _handled_stages(session, review.id or 0)
    if not may_approve_stage(
        actor.user_id,
        stage_index=review.stage_index,
        submitter_id=review.submitter_id,
        decided_stages=handled,
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
    assignment = await check_assignee(session, actor=actor, review=review, round=round)
    comment = validate_comment(
        comment, label=COMMENT_LABELS[decision], required=decision is not Decision.APPROVE
    )
    spec = review.stage
    before = _snapshot(review)
    session.add(
        ReviewDecision(
            review_id=review.id or 0,
            round=review.round,
            stage_index=review.stage_index,
            stage_name=spec.name,
            draft_version=review.draft_version,
            user_id=actor.user_id,
            on_behalf_of=assignment.on_behalf_of,
            decision=decision.value,
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
    await _audit(
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
        await _close_cards(
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
        before = _snapshot(review)
        review.stage_index = step.stage_index
        review.round += 1
        await _tell_submitter(
            session,
            review,
            kind="review.progress",
            params={"passed": stage_name, "next": review.stage.name, "by": by},
            now=now,
        )
        await _audit(
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
    kind = {
        ReviewStatus.APPROVED: "review.approved",
        ReviewStatus.RETURNED: "review.returned",
        ReviewStatus.REJECTED: "review.rejected",
    }[status]
    await _tell_submitter(
        session,
        review,
        kind=kind,
        params={"stage": stage_name, "by": by, "reason": comment or ""},
        now=now,
    )


# --- the submitter withdraws; the planned time passes ------------------------------------------


async def withdraw(session: AsyncSession, *, actor: Actor, review_id: int, now: datetime) -> Review:
    review = await lock(session, review_id)
    if review.submitter_id != actor.user_id:
        raise PermissionDenied(N_("只有提交人可以撤回送审稿。"))
    if review.status not in OPEN_STATUSES:
        raise StaleAction(N_("该稿件已有结论，不能撤回。"))
    await _close(session, review, status=ReviewStatus.WITHDRAWN, actor_id=actor.user_id, now=now)
    return review


async def _close(
    session: AsyncSession,
    review: Review,
    *,
    status: ReviewStatus,
    actor_id: int | None,
    now: datetime,
) -> None:
    before = _snapshot(review)
    if review.status == ReviewStatus.IN_REVIEW:
        await _close_cards(
            session, review, outcome=status.value, by="", now=now, skip_user_ids=set()
        )
    review.status = status
    review.decided_at = review.updated_at = now
    session.add(review)
    await session.flush()
    await _audit(
        session, review, action=f"review.{status.value}", actor_id=actor_id, now=now, before=before
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
        if review.status not in OPEN_STATUSES:
            continue
        await _close(session, review, status=ReviewStatus.EXPIRED, actor_id=None, now=now)
        await _tell_submitter(
            session,
            review,
            kind="review.expired",
            params={"planned_at": _fmt(review.planned_at, tz)},
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
    rows = await session.exec(select(Review).where(Review.status == ReviewStatus.IN_REVIEW))
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
        users = await _users(session, {a.user_id for a in waiting})
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
                queued += (
                    await outbox.enqueue(
                        session,
                        chat_id=person.telegram_id,
                        kind="review.reminder",
                        params={
                            "review_id": review.id,
                            "number": review.number,
                            "title": review.title,
                            "stage": spec.name,
                            "deadline": _fmt(due, tz),
                            "due": mark == "due",
                        },
                        now=now,
                        dedup_key=f"review.remind:{review.id}:{review.round}:{mark}:{row.user_id}",
                    )
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
    account = await session.get(Account, review.account_id)
    params = {
        "review_id": review.id,
        "number": review.number,
        "title": review.title,
        "account": account.name if account else "",
        "stage": review.stage.name,
        "deadline": _fmt(due, tz),
        "waiting": waiting,
    }
    managers = await people.users_with_role(session, role=Role.UNIT_MANAGER, unit_id=review.unit_id)
    chats = [(m.telegram_id, f"u{m.id}") for m in managers]
    if alert_chat_id is not None:
        chats.append((alert_chat_id, "alert"))
    elif not managers:
        chats += [
            (a.telegram_id, f"u{a.id}")
            for a in await people.users_with_role(session, role=Role.ADMIN)
        ]
    queued = 0
    for chat_id, tag in chats:
        queued += (
            await outbox.enqueue(
                session,
                chat_id=chat_id,
                kind="review.escalated",
                params=params,
                now=now,
                dedup_key=f"review.escalate:{review.id}:{review.round}:{tag}",
            )
            is not None
        )
    before = _snapshot(review)
    review.escalated_round = review.round
    session.add(review)
    await session.flush()
    await _audit(session, review, action="review.escalated", actor_id=None, now=now, before=before)
    return queued


# --- the approver's queue ----------------------------------------------------------------------


async def mark_opened(
    session: AsyncSession, *, actor: Actor, review_id: int, now: datetime
) -> ReviewAssignment:
    """The approver looked at the draft (copies re-sent from /pending): bulk approval may
    include it from now on."""
    review = await session.get(Review, review_id)
    if review is None:
        raise StaleAction(N_("已处理：该稿件已进入下一步或已结束。"))
    row = await check_assignee(session, actor=actor, review=review, round=review.round)
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


__all__ = [
    "Decided",
    "Prechecked",
    "bulk_approve",
    "check_assignee",
    "check_can_submit",
    "decide",
    "enter_stage",
    "expire_due",
    "mark_opened",
    "precheck_draft",
    "remind_due",
    "resubmit",
    "submit",
    "submittable_accounts",
    "withdraw",
]
