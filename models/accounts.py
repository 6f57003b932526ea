"""Registered official accounts (开设备案) and the operations of their lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import Conflict, InvalidInput, NotFound, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.registry import (
    LIVE_STATUSES,
    AccountStatus,
    Platform,
    normalize_platform_ref,
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
    can_register_account,
    can_view_account,
    registration_needs_approval,
)
from models import audit, tallies
from models.base import EnumString, UTCDateTime
from models.feedstate import FeedState, follow_accounts
from models.paging import Cursor, Order, Page, keyset_page
from models.people import Invitation, Unit, User, actor_for, get_unit

LIVE_REF_INDEX = "uq_accounts_live_platform_ref"
LIVE_WHERE = sa.text("status IN (" + ", ".join(f"'{s.value}'" for s in sorted(LIVE_STATUSES)) + ")")


class Account(SQLModel, table=True):
    __tablename__ = "accounts"

    id: int | None = Field(default=None, primary_key=True)
    platform: Platform = Field(sa_type=EnumString(Platform), index=True)
    name: str = Field(max_length=60)
    platform_ref: str = Field(max_length=200)
    platform_ref_norm: str = Field(max_length=200, index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    # Imported accounts may name a person who has not joined yet: their invitation stands in
    # until they accept it (then responsible_id is set). One of the two is always present.
    responsible_id: int | None = Field(default=None, foreign_key="users.id")
    responsible_invitation_id: int | None = Field(default=None, foreign_key="invitations.id")
    posts_per_week: int
    necessity: str = Field(max_length=1000)
    operating_plan: str = Field(max_length=2000)
    duplicate_reason: str | None = Field(default=None, max_length=500)
    feed_url: str | None = Field(default=None, max_length=2048)
    status: AccountStatus = Field(sa_type=EnumString(AccountStatus), index=True)
    status_reason: str | None = Field(default=None, max_length=500)
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(sa_type=UTCDateTime())
    updated_at: datetime = Field(sa_type=UTCDateTime())
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    version: int = 1
    submission_key: str | None = Field(default=None, max_length=32, unique=True)

    __table_args__ = (
        sa.CheckConstraint(
            "responsible_id IS NOT NULL OR responsible_invitation_id IS NOT NULL",
            name="responsible_named",
        ),
        # A platform id is held by one live account at most: the database decides, so two
        # registrations racing past the check in code cannot both be filed.
        sa.Index(
            LIVE_REF_INDEX,
            "platform",
            "platform_ref_norm",
            unique=True,
            sqlite_where=LIVE_WHERE,
            postgresql_where=LIVE_WHERE,
        ),
        # keyset pages of /accounts (by unit, then id)
        sa.Index("ix_accounts_unit_id_id", "unit_id", "id"),
    )


def snapshot(account: Account) -> dict[str, Any]:
    """The audited view of an account: every field a person can change."""
    return {
        "platform": account.platform,
        "name": account.name,
        "platform_ref": account.platform_ref,
        "unit_id": account.unit_id,
        "responsible_id": account.responsible_id,
        "responsible_invitation_id": account.responsible_invitation_id,
        "posts_per_week": account.posts_per_week,
        "necessity": account.necessity,
        "operating_plan": account.operating_plan,
        "duplicate_reason": account.duplicate_reason,
        "feed_url": account.feed_url,
        "status": account.status,
        "status_reason": account.status_reason,
    }


@dataclass(frozen=True, slots=True)
class AccountDraft:
    """A registration as the form collected it, before validation."""

    platform: str
    name: str
    platform_ref: str
    unit_id: int
    responsible_id: int
    posts_per_week: int
    necessity: str
    operating_plan: str
    feed_url: str | None = None
    duplicate_reason: str | None = None


# --- checks used both by the form (step by step) and by the final registration ---------------


async def find_by_platform_ref(
    session: AsyncSession, *, platform: Platform, platform_ref: str, exclude_id: int | None = None
) -> Account | None:
    stmt = select(Account).where(
        Account.platform == platform,
        Account.platform_ref_norm == normalize_platform_ref(platform_ref),
        col(Account.status).in_([s.value for s in LIVE_STATUSES]),
    )
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return (await session.exec(stmt)).first()


async def ensure_platform_ref_free(
    session: AsyncSession, *, platform: Platform, platform_ref: str, exclude_id: int | None = None
) -> None:
    other = await find_by_platform_ref(
        session, platform=platform, platform_ref=platform_ref, exclude_id=exclude_id
    )
    if other is not None:
        raise _ref_taken(other)


def _ref_taken(other: Account) -> Conflict:
    return Conflict(
        N_("该平台账号已登记为“{name}”（编号 {id}），同一平台账号不能重复登记。"),
        name=other.name,
        id=other.id,
    )


def holds_live_ref(exc: IntegrityError) -> bool:
    """Whether a failed write broke the one-live-account-per-platform-id index (the loser of
    two registrations racing past :func:`ensure_platform_ref_free`)."""
    text = str(exc.orig)
    return LIVE_REF_INDEX in text or "accounts.platform_ref_norm" in text


async def unit_accounts_on_platform(
    session: AsyncSession, *, unit_id: int, platform: Platform, exclude_id: int | None = None
) -> list[Account]:
    stmt = select(Account).where(
        Account.unit_id == unit_id,
        Account.platform == platform,
        col(Account.status).in_([s.value for s in LIVE_STATUSES]),
    )
    if exclude_id is not None:
        stmt = stmt.where(Account.id != exclude_id)
    return list(await session.exec(stmt))


async def ensure_responsible(session: AsyncSession, *, user_id: int, unit_id: int) -> User:
    """The responsible person must be an active, registered member of the owning unit."""
    user = await session.get(User, user_id)
    if user is None or not user.active or user.unit_id != unit_id:
        raise InvalidInput(N_("责任人必须是该单位已登记且在用的人员。"))
    return user


def ensure_unit_scope(actor: Actor, unit_id: int) -> None:
    if not actor.manages(unit_id):
        raise PermissionDenied(N_("你只能为自己管理的单位登记账号。"))


# --- registration ---------------------------------------------------------------------------


async def register_account(
    session: AsyncSession,
    *,
    actor: Actor,
    draft: AccountDraft,
    now: datetime,
    submission_key: str | None = None,
) -> Account:
    """Validate the whole draft again (the form may be stale) and file the account.

    Admins' registrations are active at once; unit managers' wait as 申请中 for an admin.
    ``submission_key`` (unique) makes a double-pressed confirm file the account once.
    """
    if not can_register_account(actor):
        raise PermissionDenied(N_("只有管理员和单位管理员可以登记账号。"))
    try:
        platform = Platform(draft.platform)
    except ValueError:
        raise InvalidInput(N_("请选择一个平台。")) from None
    ensure_unit_scope(actor, draft.unit_id)
    await get_unit(session, draft.unit_id)
    name = validate_account_name(draft.name)
    ref = validate_platform_ref(draft.platform_ref)
    await ensure_platform_ref_free(session, platform=platform, platform_ref=ref)
    await ensure_responsible(session, user_id=draft.responsible_id, unit_id=draft.unit_id)
    siblings = await unit_accounts_on_platform(session, unit_id=draft.unit_id, platform=platform)
    # a registration of the same id committed between the two reads: say so, not "give a reason"
    norm = normalize_platform_ref(ref)
    if same := next((a for a in siblings if a.platform_ref_norm == norm), None):
        raise _ref_taken(same)
    reason = None
    if siblings:
        reason = validate_reason(draft.duplicate_reason, label=N_("再开设同平台账号的理由"))
    feed_url = validate_http_url(draft.feed_url, label=N_("订阅源地址")) if draft.feed_url else None
    pending = registration_needs_approval(actor)
    account = Account(
        platform=platform,
        name=name,
        platform_ref=ref,
        platform_ref_norm=norm,
        unit_id=draft.unit_id,
        responsible_id=draft.responsible_id,
        posts_per_week=validate_posts_per_week(draft.posts_per_week),
        necessity=validate_necessity(draft.necessity),
        operating_plan=validate_plan(draft.operating_plan),
        duplicate_reason=reason,
        feed_url=feed_url,
        status=AccountStatus.PENDING if pending else AccountStatus.ACTIVE,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
        decided_by=None if pending else actor.user_id,
        decided_at=None if pending else now,
        submission_key=submission_key,
    )
    session.add(account)
    await session.flush()
    await follow_accounts(session, [(account.id, account.feed_url, account.status)], now=now)
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="account.applied" if pending else "account.registered",
        object_type="account",
        object_id=account.id,
        after=snapshot(account),
    )
    return account


@dataclass(frozen=True, slots=True)
class CardContext:
    """What an account's card shows around the account row."""

    unit: Unit | None
    responsible: User | None
    #: the invited person's name while the named responsible person has yet to join
    pending: str | None
    state: FeedState | None


async def card_context(session: AsyncSession, account: Account) -> CardContext:
    """The account's unit, responsible person (or pending invitation) and feed state in one
    statement: the card is opened at every turn, and each statement is a round trip."""
    row = (
        await session.exec(
            select(Unit, User, Invitation, FeedState)
            .select_from(Account)
            .outerjoin(Unit, col(Unit.id) == col(Account.unit_id))
            .outerjoin(User, col(User.id) == col(Account.responsible_id))
            .outerjoin(Invitation, col(Invitation.id) == col(Account.responsible_invitation_id))
            .outerjoin(FeedState, col(FeedState.account_id) == col(Account.id))
            .where(Account.id == account.id)
        )
    ).first()
    if row is None:  # deleted meanwhile: the card shows the row it was given
        return CardContext(unit=None, responsible=None, pending=None, state=None)
    unit, user, invitation, state = row
    if account.responsible_id is not None:
        return CardContext(unit=unit, responsible=user, pending=None, state=state)
    pending = invitation.person_name if invitation is not None else None
    return CardContext(unit=unit, responsible=None, pending=pending, state=state)


async def responsible_of(session: AsyncSession, account: Account) -> tuple[User | None, str | None]:
    """The responsible person, or (None, name) while the named person has yet to join."""
    if account.responsible_id is not None:
        return await session.get(User, account.responsible_id), None
    invitation = (
        await session.get(Invitation, account.responsible_invitation_id)
        if account.responsible_invitation_id is not None
        else None
    )
    return None, invitation.person_name if invitation is not None else None


async def claim_pending_accounts(
    session: AsyncSession, *, invitation: Invitation, user: User, now: datetime
) -> list[Account]:
    """The person invited by a ledger import joined: they become responsible for its accounts."""
    rows = await session.exec(
        select(Account)
        .where(
            Account.responsible_invitation_id == invitation.id,
            col(Account.responsible_id).is_(None),
        )
        .order_by(col(Account.id))
    )
    claimed = []
    actor = await actor_for(session, user)
    for account in list(rows):
        before = snapshot(account)
        account.responsible_id, account.responsible_invitation_id = user.id, None
        claimed.append(
            await save_change(
                session,
                account=account,
                before=before,
                actor=actor,
                now=now,
                action="account.responsible_joined",
                note=f"invitation {invitation.id}",
            )
        )
    return claimed


async def get_account(session: AsyncSession, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(N_("找不到编号为 {id} 的账号。"), id=account_id)
    return account


async def get_visible_account(session: AsyncSession, *, account_id: int, actor: Actor) -> Account:
    account = await get_account(session, account_id)
    if not can_view_account(actor, account.unit_id):
        raise PermissionDenied(N_("你无权查看该账号。"))
    return account


def check_version(account: Account, version: int | None) -> None:
    if version is not None and account.version != version:
        raise StaleAction(N_("该账号信息已被他人更新，请重新打开账号卡片后再操作。"))


async def save_change(
    session: AsyncSession,
    *,
    account: Account,
    before: dict[str, Any],
    actor: Actor,
    action: str,
    now: datetime,
    note: str | None = None,
) -> Account:
    """Persist a change with an optimistic version bump and its audit row; the account's poll
    state follows a changed status or feed URL in the same transaction."""
    old_version = account.version
    values = snapshot(account)
    values.pop("platform", None)
    values["platform_ref_norm"] = normalize_platform_ref(account.platform_ref)
    try:
        result = await session.exec(
            sa.update(Account)
            .where(col(Account.id) == account.id, col(Account.version) == old_version)
            .values(
                **values,
                updated_at=now,
                version=old_version + 1,
                decided_by=account.decided_by,
                decided_at=account.decided_at,
            )
            .execution_options(synchronize_session=False)
        )
    except IntegrityError as exc:
        if holds_live_ref(exc):
            raise Conflict(N_("该平台账号已被其他账号登记，同一平台账号不能重复登记。")) from None
        raise
    if result.rowcount != 1:
        raise StaleAction(N_("该账号信息已被他人更新，请重新打开账号卡片后再操作。"))
    await session.refresh(account)
    await follow_accounts(session, [(account.id, account.feed_url, account.status)], now=now)
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action=action,
        object_type="account",
        object_id=account.id,
        before=before,
        after=snapshot(account),
        note=note,
    )
    return account


@dataclass(frozen=True, slots=True)
class AccountFilter:
    unit_id: int | None = None
    platform: str | None = None
    status: str | None = None


ACCOUNT_ORDER = Order(
    key=col(Account.unit_id),
    id=col(Account.id),
    key_of=lambda a: a.unit_id,
    id_of=lambda a: a.id or 0,
)


def _visible(
    stmt: Any, actor: Actor, filters: AccountFilter, *, unit: Any, platform: Any, status: Any
) -> Any:
    """``stmt`` narrowed to the accounts ``actor`` may list under ``filters``, by whichever
    columns hold unit, platform and status: the registry's for a page, the tally's for its
    total."""
    for column, value in (
        (unit, None if actor.is_admin else (actor.unit_id or -1)),
        (unit, filters.unit_id),
        (platform, filters.platform or None),
        (status, filters.status or None),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def accounts_total(actor: Actor, filters: AccountFilter) -> Any:
    """How many accounts :func:`list_accounts` lists, as one statement: a sum over the tally
    rows in scope (a few thousand at most), not a count of the registry."""
    tally = tallies.AccountTally
    return _visible(
        select(func.coalesce(func.sum(tally.n), 0)),
        actor,
        filters,
        unit=tally.unit_id,
        platform=tally.platform,
        status=tally.status,
    )


async def list_accounts(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: AccountFilter,
    cursor: Cursor | None = None,
    page_size: int = 8,
) -> Page[Account]:
    """A keyset page of the accounts visible to ``actor`` (by unit, then id), with the total
    (:func:`accounts_total`)."""
    stmt = _visible(
        select(Account),
        actor,
        filters,
        unit=col(Account.unit_id),
        platform=col(Account.platform),
        status=col(Account.status),
    )
    return await keyset_page(
        session,
        stmt,
        order=ACCOUNT_ORDER,
        cursor=cursor,
        size=page_size,
        count=accounts_total(actor, filters),
    )


REGISTRATION_ORDER = Order(
    key=col(Account.id), id=col(Account.id), key_of=lambda a: a.id or 0, id_of=lambda a: a.id or 0
)


async def pending_registrations(
    session: AsyncSession, *, cursor: Cursor | None = None, size: int = 1000
) -> Page[Account]:
    """Registrations waiting for an admin, oldest first, a page at a time."""
    stmt = select(Account).where(Account.status == AccountStatus.PENDING)
    return await keyset_page(session, stmt, order=REGISTRATION_ORDER, cursor=cursor, size=size)
