"""Government websites (政府网站): the website row, its watched pages, and the daily probe tally.

A website is registered as an account of platform ``website`` (unit, responsible person,
status, lifecycle and audit are the accounts'); ``websites`` adds what only a website has: the
probe state of its home page and the verdict of its last evaluation. ``website_columns`` holds
the watched pages (the home page itself, kind ``home``, and every column an admin added) with
their poll state, polled like feeds (conditional requests, backoff, a lease). Items found on a
page are stored as posts of the website's account (identity ``c<column id>:<link>``), so the
content checks, dead links, findings and cases of accounts apply unchanged. ``probe_days`` keeps
one row of visits per website and local day (the indicator counts visits per day).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.outcomes import PollOutcome
from governance.registry import AccountStatus
from governance.scoring import ScoringRules
from governance.websites import (
    COLUMN_CLASS_LABELS,
    ColumnClass,
    ColumnFacts,
    ProbeDay,
    WebsiteFacts,
    WebsiteLine,
    WebsiteRules,
    judge_website,
)
from models import findings
from models.accounts import Account
from models.base import EnumString, UTCDateTime, dialect_insert
from models.people import Invitation, Unit, User

#: Extractor reasons that mean "the column has nothing" (空白栏目), not "detection failed".
EMPTY_REASONS = ("empty_notice", "no_links")

#: Websites that are watched and probed: 在用 and 整改中, like polled accounts.
WATCHED_STATUSES = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING)


class Website(SQLModel, table=True):
    __tablename__ = "websites"

    account_id: int = Field(foreign_key="accounts.id", primary_key=True)
    home_url: str = Field(max_length=2048)
    created_at: datetime = Field(sa_type=UTCDateTime())
    next_probe_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    last_probe_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_probe_ok: bool | None = None
    last_probe_ms: int | None = None
    last_probe_error: str | None = Field(default=None, max_length=300)
    probe_failures: int = 0
    """Consecutive failed visits."""
    down_since: datetime | None = Field(default=None, sa_type=UTCDateTime())
    """Set while an outage alert stands (cleared, with a recovery notice, on the next success)."""
    vetoes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    """The veto rules failing at the last evaluation (``WebsiteRule`` values)."""
    vetoes_since: datetime | None = Field(default=None, sa_type=UTCDateTime())
    outcome: str | None = Field(default=None, max_length=16)
    points: int | None = None
    evaluated_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class WebsiteColumn(SQLModel, table=True):
    __tablename__ = "website_columns"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    name: str = Field(max_length=60)
    url: str = Field(max_length=2048)
    kind: ColumnClass = Field(sa_type=EnumString(ColumnClass, 16))
    selector: str | None = Field(default=None, max_length=200)
    first_level: bool = True
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime())
    created_by: int | None = Field(default=None, foreign_key="users.id")
    # poll state, as feed_state keeps it for feeds
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=128)
    next_poll_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    last_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    first_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    consecutive_failures: int = 0
    last_outcome: PollOutcome | None = Field(default=None, sa_type=EnumString(PollOutcome))
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime())
    claim_token: str | None = Field(default=None, max_length=32, index=True)
    # what the page held
    items: int = 0
    last_update: datetime | None = Field(default=None, sa_type=UTCDateTime())
    method: str | None = Field(default=None, max_length=16)
    portal: bool = False
    note: str | None = Field(default=None, max_length=300)
    """Why nothing was found (a ``feeds.listpage.NoItemsReason`` value), shown on the card."""

    __table_args__ = (sa.UniqueConstraint("account_id", "url", name="uq_website_columns_url"),)

    @property
    def readable(self) -> bool:
        """Read at least once, and either items were found or the page showed it has none.

        A page where the detector found no dated list proves nothing about the column: it
        stays unread (无法评估) until someone gives it a selector, never "empty".
        """
        if self.first_success_at is None:
            return False
        return self.items > 0 or self.portal or self.note in (None, *EMPTY_REASONS)

    def facts(self) -> ColumnFacts:
        return ColumnFacts(
            id=self.id or 0,
            name=self.name,
            kind=self.kind,
            first_level=self.first_level,
            read=self.readable,
            items=self.items,
            last_update=self.last_update,
            portal=self.portal,
        )


class ProbeTally(SQLModel, table=True):
    __tablename__ = "probe_days"

    account_id: int = Field(foreign_key="accounts.id", primary_key=True)
    day: date = Field(primary_key=True)
    visits: int = 0
    failures: int = 0
    total_ms: int = 0
    max_ms: int = 0


def item_identity(column_id: int, link: str) -> str:
    return f"c{column_id}:{link}"[:512]


# --- websites ---------------------------------------------------------------------------------


async def get_website(session: AsyncSession, account_id: int) -> Website | None:
    return await session.get(Website, account_id)


async def list_websites(session: AsyncSession) -> list[tuple[Website, Account]]:
    rows = await session.exec(
        select(Website, Account)
        .join(Account, col(Account.id) == Website.account_id)
        .order_by(col(Account.unit_id), col(Account.id))
    )
    return list(rows.all())


async def columns_of(
    session: AsyncSession, *, account_id: int, include_home: bool = True
) -> list[WebsiteColumn]:
    stmt = select(WebsiteColumn).where(
        WebsiteColumn.account_id == account_id, col(WebsiteColumn.active).is_(True)
    )
    if not include_home:
        stmt = stmt.where(WebsiteColumn.kind != ColumnClass.HOME)
    rows = await session.exec(stmt.order_by(col(WebsiteColumn.id)))
    return list(rows)


async def home_column(session: AsyncSession, *, account_id: int) -> WebsiteColumn | None:
    rows = await session.exec(
        select(WebsiteColumn).where(
            WebsiteColumn.account_id == account_id, WebsiteColumn.kind == ColumnClass.HOME
        )
    )
    return rows.first()


async def find_column(session: AsyncSession, *, account_id: int, url: str) -> WebsiteColumn | None:
    rows = await session.exec(
        select(WebsiteColumn).where(
            WebsiteColumn.account_id == account_id, WebsiteColumn.url == url
        )
    )
    return rows.first()


async def due_probes(session: AsyncSession, *, now: datetime, limit: int) -> list[tuple[int, str]]:
    """(account id, home URL) of watched websites whose next visit is due."""
    rows = await session.exec(
        select(Website.account_id, Website.home_url)
        .join(Account, col(Account.id) == Website.account_id)
        .where(Website.next_probe_at <= now, col(Account.status).in_(WATCHED_STATUSES))
        .order_by(col(Website.next_probe_at))
        .limit(limit)
    )
    return list(rows.all())


async def tally_probe(
    session: AsyncSession, *, account_id: int, day: date, ok: bool, ms: int
) -> None:
    """Count one visit in its local day (an upsert: concurrent visits add up)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = dialect_insert(session)
    failed = 0 if ok else 1
    table = ProbeTally.__table__  # type: ignore[attr-defined]
    stmt = insert(ProbeTally).values(
        account_id=account_id, day=day, visits=1, failures=failed, total_ms=ms, max_ms=ms
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "day"],
        set_={
            "visits": table.c.visits + 1,
            "failures": table.c.failures + failed,
            "total_ms": table.c.total_ms + ms,
            "max_ms": sa.func.max(table.c.max_ms, ms)
            if dialect == "sqlite"
            else sa.func.greatest(table.c.max_ms, ms),
        },
    )
    await session.exec(stmt)


async def probe_days(
    session: AsyncSession, *, account_id: int, first: date, last: date
) -> list[ProbeDay]:
    """Every day from ``first`` to ``last`` (inclusive), a day without visits as zeros."""
    rows = await session.exec(
        select(ProbeTally).where(
            ProbeTally.account_id == account_id, ProbeTally.day >= first, ProbeTally.day <= last
        )
    )
    found = {r.day: r for r in rows}
    out: list[ProbeDay] = []
    day = first
    while day <= last:
        row = found.get(day)
        out.append(ProbeDay(day, row.visits if row else 0, row.failures if row else 0))
        day += timedelta(days=1)
    return out


# --- column polling -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColumnClaim:
    """One claimed page, as the watcher needs it (plain data, no session attached)."""

    id: int
    account_id: int
    url: str
    kind: ColumnClass
    selector: str | None
    name: str
    etag: str | None
    last_modified: str | None
    consecutive_failures: int
    last_update: datetime | None
    first_success_at: datetime | None


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        col(WebsiteColumn.claimed_until).is_(None), col(WebsiteColumn.claimed_until) < now
    )


async def claim_due_columns(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int, token: str
) -> list[ColumnClaim]:
    """Claim up to ``limit`` due pages of watched websites, oldest due first."""
    due = (
        select(WebsiteColumn.id)
        .join(Account, col(Account.id) == WebsiteColumn.account_id)
        .where(
            WebsiteColumn.next_poll_at <= now,
            col(WebsiteColumn.active).is_(True),
            _claimable(now),
            col(Account.status).in_(WATCHED_STATUSES),
        )
        .order_by(col(WebsiteColumn.next_poll_at))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=sa.inspect(WebsiteColumn).local_table)
    await session.exec(
        sa.update(WebsiteColumn)
        .where(col(WebsiteColumn.id).in_(due.scalar_subquery()), _claimable(now))
        .values(claimed_until=now + lease, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    rows = await session.exec(
        select(WebsiteColumn)
        .where(WebsiteColumn.claim_token == token)
        .order_by(col(WebsiteColumn.next_poll_at))
    )
    return [
        ColumnClaim(
            id=c.id or 0,
            account_id=c.account_id,
            url=c.url,
            kind=c.kind,
            selector=c.selector,
            name=c.name,
            etag=c.etag,
            last_modified=c.last_modified,
            consecutive_failures=c.consecutive_failures,
            last_update=c.last_update,
            first_success_at=c.first_success_at,
        )
        for c in rows
    ]


@dataclass(frozen=True, slots=True)
class ColumnPoll:
    """What one read of a page learned, ready to be written."""

    column_id: int
    started_at: datetime
    outcome: PollOutcome
    success: bool
    http_status: int | None
    error: str | None
    etag: str | None
    last_modified: str | None
    next_poll_at: datetime
    consecutive_failures: int
    new_items: int
    last_update: datetime | None
    method: str | None
    portal: bool | None
    note: str | None


async def record_column_poll(session: AsyncSession, *, poll: ColumnPoll, token: str) -> None:
    """Update the page's state and release the claim (only our own claim)."""
    values: dict[str, object] = {
        "last_poll_at": poll.started_at,
        "last_outcome": poll.outcome,
        "last_status": poll.http_status,
        "last_error": (poll.error or "")[:300] or None,
        "next_poll_at": poll.next_poll_at,
        "consecutive_failures": poll.consecutive_failures,
        "claimed_until": None,
        "claim_token": None,
        "last_update": poll.last_update,
        "items": col(WebsiteColumn.items) + poll.new_items,
    }
    if poll.success:
        values |= {
            "last_success_at": poll.started_at,
            "first_success_at": sa.func.coalesce(
                col(WebsiteColumn.first_success_at), poll.started_at
            ),
            "etag": poll.etag,
            "last_modified": poll.last_modified,
        }
        if poll.method is not None:
            values |= {"method": poll.method, "note": (poll.note or "")[:300] or None}
        if poll.portal is not None:
            values["portal"] = poll.portal
    await session.exec(
        sa.update(WebsiteColumn)
        .where(col(WebsiteColumn.id) == poll.column_id, col(WebsiteColumn.claim_token) == token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def release_columns(session: AsyncSession, *, token: str) -> None:
    await session.exec(
        sa.update(WebsiteColumn)
        .where(col(WebsiteColumn.claim_token) == token)
        .values(claimed_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )


async def column_facts(session: AsyncSession, *, account_id: int) -> list[ColumnFacts]:
    return [c.facts() for c in await columns_of(session, account_id=account_id)]


async def watched_website_ids(session: AsyncSession) -> list[int]:
    rows = await session.exec(
        select(Website.account_id)
        .join(Account, col(Account.id) == Website.account_id)
        .where(col(Account.status).in_(WATCHED_STATUSES))
        .order_by(col(Website.account_id))
    )
    return list(rows)


async def website_ids(session: AsyncSession, *, account_ids: Sequence[int]) -> set[int]:
    """Which of ``account_ids`` are websites (their account rows stand for a website)."""
    if not account_ids:
        return set()
    rows = await session.exec(
        select(Website.account_id).where(col(Website.account_id).in_(account_ids))
    )
    return set(rows)


async def website_facts(
    session: AsyncSession, *, account_id: int, now: datetime, tz: ZoneInfo, days: int
) -> WebsiteFacts:
    """What monitoring knows of one website as of ``now`` (complete local days for visits)."""
    pages = await columns_of(session, account_id=account_id)
    home = next((p.facts() for p in pages if p.kind == ColumnClass.HOME), None)
    today = now.astimezone(tz).date()
    tally = await probe_days(
        session,
        account_id=account_id,
        first=today - timedelta(days=days),
        last=today - timedelta(days=1),
    )
    problems: dict[str, int] = {}
    for category, _severity, n in await findings.open_summary(session, account_id=account_id):
        problems[category] = problems.get(category, 0) + n
    return WebsiteFacts(
        home=home,
        columns=[p.facts() for p in pages if p.kind != ColumnClass.HOME],
        probe_days=tally,
        dead_links=problems.get("dead_link", 0),
        problems=problems,
    )


async def website_lines(
    session: AsyncSession,
    *,
    unit_id: int | None,
    as_of: datetime,
    tz: ZoneInfo,
    rules: WebsiteRules,
    scoring: ScoringRules,
) -> list[WebsiteLine]:
    """Every watched website in scope (one unit, or all) judged as of ``as_of``.

    Visits count up to the day before ``as_of``; column freshness is what monitoring knows now
    (a report on a past quarter shows the columns' current state).
    """
    stmt = (
        select(Website, Account, Unit.name)
        .join(Account, col(Account.id) == Website.account_id)
        .join(Unit, col(Unit.id) == Account.unit_id)
        .where(col(Account.status).in_(WATCHED_STATUSES))
        .order_by(col(Unit.name), col(Account.id))
    )
    if unit_id is not None:
        stmt = stmt.where(Account.unit_id == unit_id)
    lines = []
    for site, account, unit_name in (await session.exec(stmt)).all():
        facts = await website_facts(
            session, account_id=site.account_id, now=as_of, tz=tz, days=rules.days
        )
        verdict = judge_website(facts, now=as_of, rules=rules, scoring=scoring)
        lines.append(
            WebsiteLine(
                id=site.account_id,
                name=account.name,
                unit=unit_name,
                home_url=site.home_url,
                columns=len(facts.columns),
                verdict=verdict,
            )
        )
    return lines


async def website_in_unit(session: AsyncSession, *, unit_id: int, home_url: str) -> int | None:
    """The account id of the unit's website with this home page, if filed."""
    rows = await session.exec(
        select(Website.account_id)
        .join(Account, col(Account.id) == Website.account_id)
        .where(Account.unit_id == unit_id, Website.home_url == home_url)
    )
    return rows.first()


async def person_in_unit(session: AsyncSession, *, unit_id: int, name: str) -> int | None:
    """The id of the unit's active person of this name (the ledger names people)."""
    rows = await session.exec(
        select(User.id).where(
            User.unit_id == unit_id, User.name == name, col(User.active).is_(True)
        )
    )
    return rows.first()


async def invitation_in_unit(session: AsyncSession, *, unit_id: int, name: str) -> int | None:
    """An open invitation to the unit for a person of this name (the ledger's stand-in)."""
    rows = await session.exec(
        select(Invitation.id)
        .where(
            Invitation.unit_id == unit_id,
            Invitation.person_name == name,
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .order_by(col(Invitation.id).desc())
    )
    return rows.first()


async def ledger_rows(session: AsyncSession, *, unit_id: int | None = None) -> list[list[object]]:
    """The 网站 sheet as it exports: a row per column (a website without columns: one row)."""
    stmt = (
        select(Website, Account, Unit.name)
        .join(Account, col(Account.id) == Website.account_id)
        .join(Unit, col(Unit.id) == Account.unit_id)
        .order_by(col(Unit.name), col(Account.id))
    )
    if unit_id is not None:
        stmt = stmt.where(Account.unit_id == unit_id)
    out: list[list[object]] = []
    for site, account, unit_name in (await session.exec(stmt)).all():
        person = ""
        if account.responsible_id is not None:
            user = await session.get(User, account.responsible_id)
            person = user.name if user else ""
        elif account.responsible_invitation_id is not None:
            invitation = await session.get(Invitation, account.responsible_invitation_id)
            person = (invitation.person_name or "") if invitation else ""
        head: list[object] = [unit_name, account.name, site.home_url, person]
        pages = await columns_of(session, account_id=site.account_id, include_home=False)
        if not pages:
            out.append([*head, None, None, None, None, None])
        for page in pages:
            out.append(
                [
                    *head,
                    page.name,
                    page.url,
                    COLUMN_CLASS_LABELS[page.kind],
                    "是" if page.first_level else "否",
                    page.selector,
                ]
            )
    return out
