"""Submitting a draft: pre-check, the route, the first stage; a revised draft after a return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.drafttext import Place, locate
from governance.errors import InvalidInput, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.precheck import blocking, checked_text, precheck, to_json, unread_findings
from governance.quality import Checker, Finding
from governance.registry import LIVE_STATUSES, AccountStatus
from governance.review import (
    ReviewStatus,
    restart_stage,
    review_number,
    validate_title,
)
from governance.roles import Actor, can_submit_draft
from models.accounts import REGISTRATION_ORDER, Account
from models.paging import Cursor, Page, keyset_page
from models.reviews import (
    Review,
    ReviewPart,
    ReviewVersion,
    composed,
    draft_parts,
    lock,
    next_seq,
)
from models.routes import check_route, effective_route
from workflows.reviews.common import audit_review, snapshot
from workflows.reviews.stages import (
    enter_stage,
)

# --- the draft before it is routed -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prechecked:
    text: str
    body: str
    findings: list[Finding]
    parts: list[ReviewPart]
    places: list[Place | None] = field(default_factory=list)  # aligned with ``findings``

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
    """The pre-check of the messages and documents sent so far; a document's findings carry
    their place in it, and a document whose text could not be read is a finding itself."""
    parts = await draft_parts(session, owner_id=owner_id, draft_key=draft_key)
    draft = composed(parts)
    body = draft.body
    text = checked_text(title, body)
    offset = len(text) - len(body)
    has_media = any(p.kind != "text" for p in parts)
    if not parts:  # a title alone is no draft
        found = precheck("", checker=checker)
    else:
        found = precheck(
            text,
            checker=checker,
            has_media=has_media,
            max_chars=max_chars,
            extra=unread_findings(draft, offset=offset),
        )
    places = locate(draft, found, offset=offset)
    return Prechecked(text=text, body=body, findings=found, parts=parts, places=places)


async def submittable_accounts(
    session: AsyncSession, *, actor: Actor, cursor: Cursor | None = None, size: int = 20
) -> Page[Account]:
    """A keyset page of the accounts the actor may submit drafts for (their unit's live ones)."""
    stmt = select(Account).where(
        Account.unit_id == actor.unit_id,
        col(Account.status).in_([s.value for s in LIVE_STATUSES - {AccountStatus.PENDING}]),
    )
    if not can_submit_draft(actor):
        stmt = stmt.where(sa.false())
    return await keyset_page(session, stmt, order=REGISTRATION_ORDER, cursor=cursor, size=size)


async def _submit_account(session: AsyncSession, *, actor: Actor, account_id: int) -> Account:
    if not can_submit_draft(actor):
        raise PermissionDenied(N_("只有单位人员可以提交送审稿。"))
    account = await session.get(Account, account_id)
    if account is None or account.unit_id != actor.unit_id:
        raise PermissionDenied(N_("只能为本单位的账号提交送审稿。"))
    if AccountStatus(account.status) not in LIVE_STATUSES - {AccountStatus.PENDING}:
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
    await audit_review(
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
        findings=to_json(checked.findings, checked.places),
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
    before = snapshot(review)
    review.draft_version += 1
    review.stage_index = restart_stage(
        returned_at=review.stage_index, restart_from_first=review.restart_from_first
    )
    review.round += 1
    review.status = ReviewStatus.IN_REVIEW
    review.updated_at = now
    session.add(review)
    await _add_version(session, review, checked=checked, title=review.title, now=now)
    await audit_review(
        session, review, action="review.resubmitted", actor_id=actor.user_id, now=now, before=before
    )
    await enter_stage(session, review, now=now, tz=tz)
    return review
