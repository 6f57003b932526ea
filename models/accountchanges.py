"""Changes to a registered account: the registration decision, field edits, a new responsible
person and status transitions; split from :mod:`models.accounts`, which files and loads them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import InvalidInput, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.registry import (
    LIVE_STATUSES,
    REASON_REQUIRED,
    AccountStatus,
    check_transition,
    validate_account_name,
    validate_http_url,
    validate_necessity,
    validate_plan,
    validate_platform_ref,
    validate_posts_per_week,
    validate_reason,
)
from governance.roles import (
    Actor,
    can_approve_registration,
    can_change_account_status,
    can_edit_account,
)
from models.accounts import (
    Account,
    check_version,
    ensure_platform_ref_free,
    ensure_responsible,
    get_account,
    save_change,
    snapshot,
)


async def decide_registration(
    session: AsyncSession,
    *,
    account_id: int,
    approve: bool,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
    version: int | None = None,
) -> Account:
    """An admin approves (→ 在用) or rejects (→ 未通过, with a reason) a pending registration."""
    if not can_approve_registration(actor):
        raise PermissionDenied(N_("只有管理员可以审批账号登记。"))
    account = await get_account(session, account_id)
    if account.status != AccountStatus.PENDING:
        raise StaleAction(N_("该登记申请已处理。"))
    check_version(account, version)
    before = snapshot(account)
    if approve:
        platform = account.platform
        await ensure_platform_ref_free(
            session, platform=platform, platform_ref=account.platform_ref, exclude_id=account.id
        )
        account.status = AccountStatus.ACTIVE
        account.status_reason = None
    else:
        account.status = AccountStatus.REJECTED
        account.status_reason = validate_reason(reason, label=N_("驳回理由"))
    account.decided_by, account.decided_at = actor.user_id, now
    return await save_change(
        session,
        account=account,
        before=before,
        actor=actor,
        now=now,
        action="account.approved" if approve else "account.rejected",
    )


EDITABLE_FIELDS = (
    "name",
    "platform_ref",
    "posts_per_week",
    "necessity",
    "operating_plan",
    "feed_url",
)


async def update_field(
    session: AsyncSession,
    *,
    account_id: int,
    field: str,
    value: str | None,
    actor: Actor,
    now: datetime,
    version: int | None = None,
) -> Account:
    account = await get_account(session, account_id)
    if not can_edit_account(actor, account.unit_id):
        raise PermissionDenied(N_("你无权修改该账号。"))
    if account.status not in LIVE_STATUSES:
        raise StaleAction(N_("已关停、注销或未通过的账号不能修改。"))
    check_version(account, version)
    before = snapshot(account)
    if field == "name":
        account.name = validate_account_name(value)
    elif field == "platform_ref":
        ref = validate_platform_ref(value)
        await ensure_platform_ref_free(
            session, platform=account.platform, platform_ref=ref, exclude_id=account.id
        )
        account.platform_ref = ref
    elif field == "posts_per_week":
        account.posts_per_week = validate_posts_per_week(value)
    elif field == "necessity":
        account.necessity = validate_necessity(value)
    elif field == "operating_plan":
        account.operating_plan = validate_plan(value)
    elif field == "feed_url":
        account.feed_url = validate_http_url(value, label=N_("订阅源地址")) if value else None
    else:
        raise InvalidInput(N_("该字段不能修改。"))
    if snapshot(account) == before:
        return account
    return await save_change(
        session,
        account=account,
        before=before,
        actor=actor,
        now=now,
        action=f"account.{field}_changed",
    )


async def change_responsible(
    session: AsyncSession,
    *,
    account_id: int,
    user_id: int,
    actor: Actor,
    now: datetime,
    version: int | None = None,
) -> Account:
    account = await get_account(session, account_id)
    if not can_edit_account(actor, account.unit_id):
        raise PermissionDenied(N_("你无权修改该账号。"))
    if account.status not in LIVE_STATUSES:
        raise StaleAction(N_("已关停、注销或未通过的账号不能修改。"))
    check_version(account, version)
    await ensure_responsible(session, user_id=user_id, unit_id=account.unit_id)
    if account.responsible_id == user_id:
        return account
    before = snapshot(account)
    account.responsible_id, account.responsible_invitation_id = user_id, None
    return await save_change(
        session,
        account=account,
        before=before,
        actor=actor,
        now=now,
        action="account.responsible_changed",
    )


async def change_status(
    session: AsyncSession,
    *,
    account_id: int,
    target: AccountStatus,
    actor: Actor,
    now: datetime,
    reason: str | None = None,
    version: int | None = None,
) -> Account:
    """Move an account through its lifecycle (暂停, 恢复, 关停, 注销); every move is audited."""
    if not can_change_account_status(actor):
        raise PermissionDenied(N_("只有管理员可以变更账号状态。"))
    account = await get_account(session, account_id)
    current = account.status
    if current is AccountStatus.PENDING:
        raise StaleAction(N_("该账号尚在登记审批中，请先审批。"))
    check_transition(current, target)
    check_version(account, version)
    before = snapshot(account)
    if target in REASON_REQUIRED:
        account.status_reason = validate_reason(reason, label=N_("原因"))
    else:
        account.status_reason = None
    account.status = target
    return await save_change(
        session,
        account=account,
        before=before,
        actor=actor,
        now=now,
        action=f"account.{target.value}",
    )
