"""Activity views from what the database holds: one account's report, the dormancy ranking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.activity import (
    DAY,
    ActivityReport,
    ActivityThresholds,
    DormancyState,
    PollHealth,
    compute_activity,
    dormancy_state,
    is_feed_broken,
)
from governance.roles import Actor
from models import posts
from models.accounts import Account
from models.feeds import POLLED_STATUSES, FeedState
from models.paging import Cursor, Order, Page, keyset_page, micros, moment
from models.posts import Post


async def account_report(
    session: AsyncSession,
    *,
    account: Account,
    state: FeedState | None,
    now: datetime,
    thresholds: ActivityThresholds,
) -> ActivityReport:
    """The activity report of one account as of ``now`` (alerts, the card and /dormant)."""
    times = await posts.activity_times(session, account_id=account.id or 0)
    return compute_activity(
        times,
        registered_at=account.decided_at or account.created_at,
        planned_per_week=account.posts_per_week,
        now=now,
        poll_health=state.health() if state is not None else PollHealth(last_success=None),
        thresholds=thresholds,
    )


@dataclass(frozen=True, slots=True)
class AccountActivity:
    """Everything the account card shows about monitoring."""

    report: ActivityReport
    state: FeedState | None
    latest: list[Post]
    last_post: Post | None


async def account_activity(
    session: AsyncSession,
    *,
    account: Account,
    state: FeedState | None,
    now: datetime,
    thresholds: ActivityThresholds,
) -> AccountActivity:
    """The card's monitoring section; ``state`` is read with the card's other surroundings
    (:func:`models.accounts.card_context`)."""
    report = await account_report(
        session, account=account, state=state, now=now, thresholds=thresholds
    )
    latest, last_post = await posts.latest_and_last_activity(
        session, account_id=account.id or 0, limit=5
    )
    return AccountActivity(report=report, state=state, latest=latest, last_post=last_post)


@dataclass(frozen=True, slots=True)
class RankRow:
    account_id: int
    name: str
    unit_id: int
    days: int
    last_post: datetime | None
    state: DormancyState
    polled: bool


def _last_activity() -> Any:
    """When an account last showed life: its newest counting post (kept on ``feed_state`` by
    the poller, so no scan of posts), else when it was registered."""
    return sa.func.coalesce(
        col(FeedState.newest_post_at), col(Account.decided_at), col(Account.created_at)
    )


def _rank_key(row: Any) -> int:
    account, state = row
    last = state.newest_post_at if state is not None else None
    return micros(last or account.decided_at or account.created_at)


#: Longest silence first: the oldest last activity leads.
SILENCE = Order(
    key=_last_activity(),
    id=col(Account.id),
    key_of=_rank_key,
    id_of=lambda row: row[0].id or 0,
    param=moment,
)


async def dormancy_page(
    session: AsyncSession,
    *,
    actor: Actor,
    unit_id: int | None,
    at_least: DormancyState | None,
    now: datetime,
    thresholds: ActivityThresholds,
    cursor: Cursor | None,
    size: int,
) -> Page[RankRow]:
    """A keyset page of the monitored accounts the actor may see, longest silence first
    (broken feeds included, marked unknown: their silence is not evidence); ``at_least``
    keeps those silent for at least that state's days."""
    stmt = (
        select(Account, FeedState)
        .outerjoin(FeedState, col(FeedState.account_id) == col(Account.id))
        .where(col(Account.status).in_(POLLED_STATUSES), col(Account.feed_url).is_not(None))
    )
    if not actor.is_admin:
        stmt = stmt.where(Account.unit_id == (actor.unit_id or -1))
    if unit_id is not None:
        stmt = stmt.where(Account.unit_id == unit_id)
    days = (
        {
            DormancyState.WARNING: thresholds.warning_days,
            DormancyState.DORMANT: thresholds.dormant_days,
            DormancyState.CLOSURE_CANDIDATE: thresholds.closure_candidate_days,
        }.get(at_least)
        if at_least is not None
        else None
    )
    if days is not None:
        stmt = stmt.where(_last_activity() <= now - days * DAY)
    page = await keyset_page(session, stmt, order=SILENCE, cursor=cursor, size=size, scalar=False)
    rows = []
    for account, state in page.rows:
        registered = account.decided_at or account.created_at
        last = state.newest_post_at if state is not None else None
        silent = max((now - (last or registered)) // DAY, 0)
        polled = state is not None and state.last_poll_at is not None
        broken = (
            state is None
            or state.last_poll_at is None
            or is_feed_broken(
                state.health(), registered_at=registered, now=now, thresholds=thresholds
            )
        )
        rows.append(
            RankRow(
                account_id=account.id or 0,
                name=account.name,
                unit_id=account.unit_id,
                days=silent,
                last_post=last,
                state=DormancyState.UNKNOWN
                if broken
                else dormancy_state(silent, thresholds=thresholds),
                polled=polled,
            )
        )
    return Page(rows=rows, total=page.total, before=page.before, first=page.first, last=page.last)


async def find_accounts(
    session: AsyncSession, *, actor: Actor, query: str, limit: int = 10
) -> list[Account]:
    """Accounts visible to ``actor`` by id (``#12`` or ``12``) or by part of the name."""
    text = query.strip().lstrip("#")
    stmt = select(Account)
    if not actor.is_admin:
        stmt = stmt.where(Account.unit_id == (actor.unit_id or -1))
    if text.isdigit():
        stmt = stmt.where(Account.id == int(text))
    else:
        stmt = stmt.where(col(Account.name).contains(text[:60]))
    return list(await session.exec(stmt.order_by(col(Account.id)).limit(limit)))
