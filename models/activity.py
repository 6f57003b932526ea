"""Activity views from what the database holds: one account's report, the dormancy ranking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
from models import feeds, posts
from models.accounts import Account
from models.feeds import POLLED_STATUSES, FeedState
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
    session: AsyncSession, *, account: Account, now: datetime, thresholds: ActivityThresholds
) -> AccountActivity:
    state = await session.get(FeedState, account.id)
    report = await account_report(
        session, account=account, state=state, now=now, thresholds=thresholds
    )
    return AccountActivity(
        report=report,
        state=state,
        latest=await posts.latest(session, account_id=account.id or 0, limit=5),
        last_post=await posts.last_activity_post(session, account_id=account.id or 0),
    )


@dataclass(frozen=True, slots=True)
class RankRow:
    account_id: int
    name: str
    unit_id: int
    days: int
    last_post: datetime | None
    state: DormancyState
    polled: bool


async def dormancy_ranking(
    session: AsyncSession,
    *,
    actor: Actor,
    unit_id: int | None,
    now: datetime,
    thresholds: ActivityThresholds,
) -> list[RankRow]:
    """Monitored accounts the actor may see, longest silence first (broken feeds included,
    marked unknown: their silence is not evidence)."""
    stmt = select(Account).where(
        col(Account.status).in_(POLLED_STATUSES), col(Account.feed_url).is_not(None)
    )
    if not actor.is_admin:
        stmt = stmt.where(Account.unit_id == (actor.unit_id or -1))
    if unit_id is not None:
        stmt = stmt.where(Account.unit_id == unit_id)
    accounts = list(await session.exec(stmt))
    ids = [a.id or 0 for a in accounts]
    newest = await posts.newest_activity(session, account_ids=ids)
    states = await feeds.states_for(session, account_ids=ids)
    rows = []
    for account in accounts:
        aid = account.id or 0
        registered = account.decided_at or account.created_at
        last = newest.get(aid)
        days = max((now - (last or registered)) // DAY, 0)
        state = states.get(aid)
        polled = state is not None and state.last_poll_at is not None
        broken = (
            state is None
            or state.last_poll_at is None
            or is_feed_broken(
                state.health(),
                registered_at=registered,
                now=now,
                thresholds=thresholds,
            )
        )
        rows.append(
            RankRow(
                account_id=aid,
                name=account.name,
                unit_id=account.unit_id,
                days=days,
                last_post=last,
                state=DormancyState.UNKNOWN
                if broken
                else dormancy_state(days, thresholds=thresholds),
                polled=polled,
            )
        )
    rows.sort(key=lambda r: (-r.days, r.account_id))
    return rows


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
