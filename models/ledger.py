"""The ledger against the database: export the registry, validate and import a ledger table.

The rules live in :mod:`governance.ledger`; this module loads what they need to know about the
registry, files the rows they accept (one transaction, the caller's), and renders accounts back
into ledger rows. An import either files every row or, when asked, every valid row; it never
files part of what it was asked to file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import InvalidInput, PermissionDenied
from governance.i18n import N_
from governance.ledger import Existing, RowProblem, Validation, validate_table
from governance.ledgertable import COLUMN_BY_KEY, LedgerRow
from governance.outcomes import OUTCOME_MESSAGES_ZH, PollOutcome
from governance.registry import LIVE_STATUSES, AccountStatus
from governance.roles import Actor, Role, can_export_ledger, can_import_ledger
from models import audit, people
from models.accounts import Account, snapshot
from models.feedstate import follow_accounts
from models.invitations import create_invitation
from models.people import Invitation, Unit, User

IMPORT_ROLE = Role.EDITOR  # what a responsible person named in a ledger is invited as


@dataclass(frozen=True, slots=True)
class PendingPerson:
    """A responsible person named in the ledger who has yet to join, and their invitation."""

    invitation: Invitation
    unit: str
    name: str
    accounts: int


@dataclass(slots=True)
class ImportResult:
    """What an import did (``imported`` is False when it refused and filed nothing)."""

    validation: Validation
    imported: bool = False
    accounts: list[Account] = field(default_factory=list)
    updated: list[Account] = field(default_factory=list)
    needs_confirmation: bool = False
    """Rows change registered accounts: nothing was filed until the admin confirms the diff."""
    units: list[Unit] = field(default_factory=list)
    pending: list[PendingPerson] = field(default_factory=list)


# --- reading the registry -------------------------------------------------------------------


async def _names(session: AsyncSession) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
    units = {u.id or 0: u.name for u in await people.list_units(session)}
    users = {u.id or 0: u.name for u in await session.exec(select(User))}
    named = select(Invitation).where(col(Invitation.person_name).is_not(None))
    invited = {i.id or 0: i.person_name or "" for i in await session.exec(named)}
    return units, users, invited


def _row_of(
    account: Account, units: dict[int, str], users: dict[int, str], invited: dict[int, str]
) -> LedgerRow:
    if account.responsible_id is not None:
        responsible = users.get(account.responsible_id, "")
    else:
        responsible = invited.get(account.responsible_invitation_id or 0, "")
    return LedgerRow(
        row=0,
        unit=units.get(account.unit_id, ""),
        platform=account.platform,
        name=account.name,
        platform_ref=account.platform_ref,
        responsible=responsible,
        posts_per_week=account.posts_per_week,
        necessity=account.necessity,
        operating_plan=account.operating_plan,
        duplicate_reason=account.duplicate_reason,
        feed_url=account.feed_url,
        status=account.status,
        status_reason=account.status_reason,
    )


async def ledger_rows(session: AsyncSession, *, unit_id: int | None = None) -> list[LedgerRow]:
    """Every account (of one unit, if given) as a ledger row, by unit name then registration."""
    stmt = select(Account).order_by(col(Account.id))
    if unit_id is not None:
        stmt = stmt.where(Account.unit_id == unit_id)
    units, users, invited = await _names(session)
    rows = [_row_of(a, units, users, invited) for a in await session.exec(stmt)]
    return sorted(rows, key=lambda r: r.unit)  # stable: registration order within a unit


async def export_rows(
    session: AsyncSession, *, actor: Actor, unit_id: int | None = None
) -> list[tuple[str | int, ...]]:
    """The cells of the ledger ``actor`` may see: admins all (or one unit), managers their own."""
    if not actor.is_admin:
        unit_id = actor.unit_id
    if not can_export_ledger(actor, unit_id):
        raise PermissionDenied(N_("只有管理员和单位管理员可以导出台账。"))
    return [row.cells() for row in await ledger_rows(session, unit_id=unit_id)]


async def load_existing(session: AsyncSession) -> Existing:
    """What the import rules need to know about the registry as it is now."""
    units, users, invited = await _names(session)
    live = {s.value for s in LIVE_STATUSES}
    refs: dict[tuple[str, str], tuple[str, int]] = {}
    slots: dict[tuple[str, str], str] = {}
    accounts: dict[tuple[str, str], tuple[int, LedgerRow]] = {}
    registered = set()
    for account in await session.exec(select(Account).order_by(col(Account.id))):
        row = _row_of(account, units, users, invited)
        registered.add(row.cells())
        key = (account.platform, account.platform_ref_norm)
        if account.status in live:
            refs.setdefault(key, (account.name, account.id or 0))
            slots.setdefault((row.unit, account.platform), account.name)
            accounts[key] = (account.id or 0, row)  # a live account wins over a closed one
        else:
            accounts.setdefault(key, (account.id or 0, row))
    active = await session.exec(
        select(User).where(col(User.active).is_(True), col(User.unit_id).is_not(None))
    )
    counts = Counter((units.get(u.unit_id or 0, ""), u.name) for u in active)
    return Existing(
        refs=refs,
        unit_platforms=slots,
        people=dict(counts),
        registered=frozenset(registered),
        accounts=accounts,
    )


async def validate(session: AsyncSession, table: Sequence[Sequence[object]]) -> Validation:
    return validate_table(table, await load_existing(session))


#: Why the SSRF guard refuses a feed URL (``None``: it does not).
FeedGuard = Callable[[str], PollOutcome | None]


#: The feed derived from a row's platform and platform id on RSSHub (``None``: no route).
FeedDeriver = Callable[[LedgerRow], str | None]


def derive_feeds(validation: Validation, feed_for: FeedDeriver) -> Validation:
    """Fill in the feed of rows that have none but whose platform id derives one (RSSHub)."""
    rows = [
        row if row.feed_url else replace(row, feed_url=feed_for(row) or None)
        for row in validation.rows
    ]
    return replace(validation, rows=rows)


def refuse_feeds(validation: Validation, feed_guard: FeedGuard) -> Validation:
    """Move rows whose feed URL the guard refuses from the valid rows to the problems."""
    header = COLUMN_BY_KEY["feed_url"].header
    refused: list[RowProblem] = []
    rows: list[LedgerRow] = []
    for row in validation.rows:
        outcome = feed_guard(row.feed_url) if row.feed_url else None
        if outcome is None:
            rows.append(row)
        else:
            message = InvalidInput(OUTCOME_MESSAGES_ZH[outcome])
            refused.append(RowProblem(row.row, header, row.feed_url or "", message))
    if not refused:
        return validation
    problems = sorted([*validation.problems, *refused], key=lambda p: p.row)
    return replace(validation, rows=rows, problems=problems)


# --- importing ------------------------------------------------------------------------------


async def import_ledger(
    session: AsyncSession,
    *,
    actor: Actor,
    table: Sequence[Sequence[object]],
    now: datetime,
    invite_ttl: timedelta,
    valid_only: bool = False,
    source: str = "",
    feed_guard: FeedGuard | None = None,
    apply_updates: bool = False,
    feed_for: FeedDeriver | None = None,
) -> ImportResult:
    """Validate ``table`` against the registry as it is now and file it, in the caller's
    transaction: all rows when every row is valid, the valid rows when ``valid_only``, else
    nothing. Units are matched by name or created; responsible people are matched by name
    within their unit or invited (one invitation per person, reused across imports).
    ``feed_guard`` applies the SSRF guard's address rules to every feed URL, as registration does.

    Rows matching a registered account (platform + platform id) update it; they are applied
    only with ``apply_updates`` (the admin saw the diff and confirmed), through the same rules
    as the card's edit actions, with one audit row per account.
    """
    if not can_import_ledger(actor):
        raise PermissionDenied(N_("只有管理员可以导入台账。"))
    validation = await validate(session, table)
    if feed_for is not None:
        validation = derive_feeds(validation, feed_for)
    if feed_guard is not None:
        validation = refuse_feeds(validation, feed_guard)
    result = ImportResult(validation=validation)
    if not (validation.rows or validation.updates) or (validation.problems and not valid_only):
        return result
    if validation.updates and not apply_updates:
        result.needs_confirmation = True
        return result
    note = f"ledger import {source}"[:500] if source else "ledger import"
    units = {u.name: u for u in await people.list_units(session)}
    for row in [*validation.rows, *(u.row for u in validation.updates)]:
        if row.unit not in units:
            unit = await people.create_unit(
                session, name=row.unit, parent_id=None, actor=actor, now=now
            )
            units[row.unit] = unit
            result.units.append(unit)
    members: dict[tuple[int, str], int] = {}
    for user in await session.exec(select(User).where(col(User.active).is_(True))):
        if user.unit_id is not None:
            members[(user.unit_id, user.name)] = user.id or 0
    invitations = await _open_invitations(session, now)
    waiting: Counter[int] = Counter()
    accounts: list[Account] = []

    async def responsible(unit_id: int, name: str) -> tuple[int | None, int | None]:
        """(user id, invitation id): a member of the unit by that name, else their invitation."""
        user_id = members.get((unit_id, name))
        if user_id is not None:
            return user_id, None
        invitation = invitations.get((unit_id, name))
        if invitation is None:
            invitation = await create_invitation(
                session,
                actor=actor,
                unit_id=unit_id,
                role=IMPORT_ROLE,
                ttl=invite_ttl,
                now=now,
                person_name=name,
            )
            invitations[(unit_id, name)] = invitation
        waiting[invitation.id or 0] += 1
        return None, invitation.id

    for row in result.validation.rows:
        unit_id = units[row.unit].id or 0
        responsible_id, invitation_id = await responsible(unit_id, row.responsible)
        pending = row.status is AccountStatus.PENDING
        accounts.append(
            Account(
                platform=row.platform,
                name=row.name,
                platform_ref=row.platform_ref,
                platform_ref_norm=row.ref_norm,
                unit_id=unit_id,
                responsible_id=responsible_id,
                responsible_invitation_id=invitation_id,
                posts_per_week=row.posts_per_week,
                necessity=row.necessity,
                operating_plan=row.operating_plan,
                duplicate_reason=row.duplicate_reason,
                feed_url=row.feed_url,
                status=row.status,
                status_reason=row.status_reason,
                created_by=actor.user_id,
                created_at=now,
                updated_at=now,
                decided_by=None if pending else actor.user_id,
                decided_at=None if pending else now,
            )
        )
    session.add_all(accounts)
    await session.flush()
    await follow_accounts(session, [(a.id, a.feed_url, a.status) for a in accounts], now=now)
    for account in accounts:
        await audit.record(
            session,
            at=now,
            actor_id=actor.user_id,
            action="account.imported",
            object_type="account",
            object_id=account.id,
            after=snapshot(account),
            note=note,
        )
    for update in validation.updates:
        changed = await session.get(Account, update.account_id)
        assert changed is not None
        before = snapshot(changed)
        row = update.row
        if update.changed("unit"):
            changed.unit_id = units[row.unit].id or 0
        if update.changed("unit") or update.changed("responsible"):
            changed.responsible_id, changed.responsible_invitation_id = await responsible(
                changed.unit_id, row.responsible
            )
        changed.name, changed.posts_per_week = row.name, row.posts_per_week
        changed.necessity, changed.operating_plan = row.necessity, row.operating_plan
        changed.duplicate_reason, changed.feed_url = row.duplicate_reason, row.feed_url
        changed.status, changed.status_reason = row.status, row.status_reason
        changed.updated_at, changed.version = now, changed.version + 1
        session.add(changed)
        await session.flush()
        await follow_accounts(session, [(changed.id, changed.feed_url, changed.status)], now=now)
        await audit.record(
            session,
            at=now,
            actor_id=actor.user_id,
            action="account.ledger_updated",
            object_type="account",
            object_id=changed.id,
            before=before,
            after=snapshot(changed),
            note=note,
        )
        result.updated.append(changed)
    unit_names = {u.id: u.name for u in units.values()}
    result.pending = [
        PendingPerson(
            invitation=inv,
            unit=unit_names.get(inv.unit_id, ""),
            name=inv.person_name or "",
            accounts=waiting[inv.id or 0],
        )
        for inv in invitations.values()
        if waiting[inv.id or 0]
    ]
    result.accounts, result.imported = accounts, True
    return result


async def _open_invitations(
    session: AsyncSession, now: datetime
) -> dict[tuple[int, str], Invitation]:
    """Open invitations that name a person: a second import reuses them."""
    rows = await session.exec(
        select(Invitation)
        .where(
            col(Invitation.person_name).is_not(None),
            col(Invitation.unit_id).is_not(None),
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
            Invitation.expires_at > now,
            Invitation.role == IMPORT_ROLE.value,
        )
        .order_by(col(Invitation.id))
    )
    return {(i.unit_id or 0, i.person_name or ""): i for i in rows}
