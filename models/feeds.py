"""Per-feed poll state, the claim that keeps two ticks off one feed, and the poll history.

``feed_state`` (:class:`models.feedstate.FeedState`) holds one row per polled account: the
conditional-request validators, when to poll next, the failure streak, and a lease. A tick
claims due rows with one conditional UPDATE (the WHERE re-checks the lease, so on PostgreSQL a
concurrent claimer re-evaluates it and loses, and SQLite serialises writers), so two ticks never
poll one feed twice. ``polls`` is the bounded history: :func:`prune_history` keeps the latest
rows per account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from governance.outcomes import PollOutcome
from models.accounts import Account
from models.base import EnumString, UTCDateTime
from models.feedstate import POLLED_STATUSES, FeedState, insert_states, reset_state

__all__ = ["POLLED_STATUSES", "FeedState"]  # defined in models.feedstate, re-exported here


class Poll(SQLModel, table=True):
    __tablename__ = "polls"

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="accounts.id")
    started_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    outcome: PollOutcome = Field(sa_type=EnumString(PollOutcome))
    http_status: int | None = None
    duration_ms: int = 0
    items_seen: int = 0
    items_new: int = 0
    error: str | None = Field(default=None, max_length=300)
    manual: bool = False

    __table_args__ = (sa.Index("ix_polls_account_id_id", "account_id", "id"),)


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claimed feed, as the poller needs it (plain data, no session attached)."""

    account_id: int
    feed_url: str
    etag: str | None
    last_modified: str | None
    ttl_seconds: int | None
    consecutive_failures: int
    newest_post_at: datetime | None
    last_success_at: datetime | None = None


async def ensure_states(
    session: AsyncSession, *, now: datetime, account_ids: Sequence[int] | None = None
) -> int:
    """Reconcile poll state with the registry: create it for polled accounts that have none
    (due at once) and follow changed URLs. ``account_ids``: only those accounts.

    Every write path keeps the state in step as it writes the account
    (:func:`models.feedstate.follow_accounts`), so this is the safety net for writes that
    bypass them (SQL by hand, a restore), run by the scheduled
    :func:`jobs.poll.reconcile_feed_states`; over all accounts it compares the two tables
    (≈ 2 s of server time at a million accounts), which is why the tick no longer runs it.
    """
    stmt = (
        select(Account.id, Account.feed_url, FeedState)
        .join(FeedState, col(FeedState.account_id) == Account.id, isouter=True)
        .where(col(Account.feed_url).is_not(None), col(Account.status).in_(POLLED_STATUSES))
        .where(
            sa.or_(col(FeedState.account_id).is_(None), col(FeedState.feed_url) != Account.feed_url)
        )
    )
    if account_ids is not None:
        if not account_ids:
            return 0
        stmt = stmt.where(col(Account.id).in_(account_ids))
    rows = await session.exec(stmt)
    changed = 0
    fresh: list[tuple[int, str]] = []
    for account_id, feed_url, state in rows.all():
        assert feed_url is not None and account_id is not None  # the query keeps those only
        if state is None:
            fresh.append((account_id, feed_url))
        else:
            reset_state(session, state, feed_url=feed_url, now=now)
        changed += 1
    await insert_states(session, fresh, now=now)
    if changed:
        await session.flush()
    return changed


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(col(FeedState.claimed_until).is_(None), col(FeedState.claimed_until) < now)


async def claim_due(
    session: AsyncSession, *, now: datetime, lease: timedelta, limit: int, token: str
) -> list[Claimed]:
    """Claim up to ``limit`` due feeds of polled accounts, oldest due first."""
    due = (
        select(FeedState.account_id)
        .join(Account, col(Account.id) == FeedState.account_id)
        .where(
            FeedState.next_poll_at <= now,
            _claimable(now),
            col(Account.status).in_(POLLED_STATUSES),
            col(Account.feed_url).is_not(None),
        )
        .order_by(col(FeedState.next_poll_at))
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # ``= any(array(…))``, not ``IN (…)``: PostgreSQL planned the IN (and an UPDATE … FROM)
        # as a hash join over a sequential scan of the whole table, ≈ 0.8 s a tick at a million
        # feeds, once per POLL_MAX_PER_TICK feeds (quadratic over a cycle); an array of the
        # picked ids is found through the primary key, whatever the table's size
        locked = due.with_for_update(skip_locked=True, of=sa.inspect(FeedState).local_table)
        await session.exec(
            sa.update(FeedState)
            .where(
                col(FeedState.account_id) == sa.func.any(sa.func.array(locked.scalar_subquery())),
                _claimable(now),
            )
            .values(claimed_until=now + lease, claim_token=token)
            .execution_options(synchronize_session=False)
        )
        return await _claimed_rows(session, token)
    return await _claim(session, ids=due.scalar_subquery(), now=now, lease=lease, token=token)


async def claim_one(
    session: AsyncSession,
    *,
    account_id: int,
    now: datetime,
    lease: timedelta,
    token: str,
    cooldown: timedelta,
) -> Claimed | None:
    """Claim one feed for an on-demand check, unless it is being polled or in cooldown."""
    result = await session.exec(
        sa.update(FeedState)
        .where(
            col(FeedState.account_id) == account_id,
            _claimable(now),
            sa.or_(
                col(FeedState.checked_at).is_(None), col(FeedState.checked_at) <= now - cooldown
            ),
        )
        .values(claimed_until=now + lease, claim_token=token, checked_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    claimed = await _claimed_rows(session, token)
    return claimed[0] if claimed else None


async def _claim(
    session: AsyncSession,
    *,
    ids: sa.ScalarSelect[int],
    now: datetime,
    lease: timedelta,
    token: str,
) -> list[Claimed]:
    await session.exec(
        sa.update(FeedState)
        .where(col(FeedState.account_id).in_(ids), _claimable(now))
        .values(claimed_until=now + lease, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    return await _claimed_rows(session, token)


async def _claimed_rows(session: AsyncSession, token: str) -> list[Claimed]:
    # sqlmodel's select() is typed for at most four columns: build its Select directly
    claimed: Select[
        int, str, str | None, str | None, int | None, int, datetime | None, datetime | None
    ] = Select(
        col(FeedState.account_id),
        col(FeedState.feed_url),
        col(FeedState.etag),
        col(FeedState.last_modified),
        col(FeedState.ttl_seconds),
        col(FeedState.consecutive_failures),
        col(FeedState.newest_post_at),
        col(FeedState.last_success_at),
    )
    rows = await session.exec(
        claimed.where(col(FeedState.claim_token) == token).order_by(col(FeedState.next_poll_at))
    )
    return [Claimed(*row) for row in rows.all()]


async def cooldown_left(
    session: AsyncSession, *, account_id: int, now: datetime, cooldown: timedelta
) -> timedelta | None:
    """How long until /check may poll this account again (``None``: now)."""
    state = await session.get(FeedState, account_id)
    if state is None or state.checked_at is None:
        return None
    left = state.checked_at + cooldown - now
    return left if left > timedelta(0) else None


@dataclass(frozen=True, slots=True)
class PollRecord:
    """What one poll learned, ready to be written."""

    account_id: int
    started_at: datetime
    outcome: PollOutcome
    success: bool
    http_status: int | None
    duration_ms: int
    items_seen: int
    items_new: int
    error: str | None
    etag: str | None
    last_modified: str | None
    ttl_seconds: int | None
    next_poll_at: datetime
    consecutive_failures: int
    no_posts: bool
    newest_post_at: datetime | None
    manual: bool = False


async def record_poll(session: AsyncSession, *, record: PollRecord, token: str) -> None:
    """Store one poll (a /check); see :func:`record_polls`."""
    await record_polls(session, records=[record], token=token)


def _state_update(*, success: bool) -> sa.Update:
    """One UPDATE shape for a whole batch, executed once with a parameter list (executemany).

    Set-based on purpose: the ORM's unit of work cost ≈1 ms of CPU per poll, more than the
    HTTP exchange of a 304 itself. Bind names carry a ``b_`` prefix: SQLAlchemy refuses a
    bind named like a column it sets.
    """
    table = cast(sa.Table, sa.inspect(FeedState).local_table)
    c = table.c
    values: dict[str, object] = {
        "last_poll_at": sa.bindparam("b_started", type_=UTCDateTime()),
        "last_outcome": sa.bindparam("b_outcome", type_=EnumString(PollOutcome)),
        "last_status": sa.bindparam("b_status", type_=sa.Integer()),
        "last_error": sa.bindparam("b_error", type_=sa.String()),
        "next_poll_at": sa.bindparam("b_next", type_=UTCDateTime()),
        "consecutive_failures": sa.bindparam("b_failures", type_=sa.Integer()),
        "claimed_until": None,
        "claim_token": None,
        "newest_post_at": sa.bindparam("b_newest", type_=UTCDateTime()),
    }
    if success:
        values |= {
            "last_success_at": sa.bindparam("b_started_s", type_=UTCDateTime()),
            "etag": sa.bindparam("b_etag", type_=sa.String()),
            "last_modified": sa.bindparam("b_modified", type_=sa.String()),
            "no_posts": sa.bindparam("b_no_posts", type_=sa.Boolean()),
            "ttl_seconds": sa.func.coalesce(
                sa.bindparam("b_ttl", type_=sa.Integer()), c.ttl_seconds
            ),
        }
    return (
        sa.update(table)
        .where(
            c.account_id == sa.bindparam("b_account", type_=sa.Integer()),
            # coalesce() keeps the claim_token index out of this plan: every row of a tick has
            # the same token, so once PostgreSQL switches the prepared statement to a generic
            # plan it would walk that index over the whole claim for each row (quadratic at
            # 100k feeds); the primary key finds the one row
            sa.func.coalesce(c.claim_token, "") == sa.bindparam("b_token", type_=sa.String()),
        )
        .values(values)
    )


async def record_polls(session: AsyncSession, *, records: Sequence[PollRecord], token: str) -> None:
    """Store a batch of polls, update their feeds' state and release their claims (only our
    own claims): one executemany per statement shape, whatever the batch size."""
    if not records:
        return
    groups: dict[bool, list[dict[str, object]]] = {True: [], False: []}
    for r in records:
        row: dict[str, object] = {
            "b_account": r.account_id,
            "b_token": token,
            "b_started": r.started_at,
            "b_outcome": r.outcome,
            "b_status": r.http_status,
            "b_error": r.error,
            "b_next": r.next_poll_at,
            "b_failures": r.consecutive_failures,
            "b_newest": r.newest_post_at,
        }
        if r.success:
            row |= {
                "b_started_s": r.started_at,
                "b_etag": r.etag,
                "b_modified": r.last_modified,
                "b_no_posts": r.no_posts,
                "b_ttl": r.ttl_seconds,
            }
        groups[r.success].append(row)
    for success, rows in groups.items():
        if rows:
            await session.exec(_state_update(success=success), params=rows)
    polls = cast(sa.Table, sa.inspect(Poll).local_table)
    await session.exec(
        sa.insert(polls),
        params=[
            {
                "account_id": r.account_id,
                "started_at": r.started_at,
                "outcome": r.outcome,
                "http_status": r.http_status,
                "duration_ms": r.duration_ms,
                "items_seen": r.items_seen,
                "items_new": r.items_new,
                "error": r.error,
                "manual": r.manual,
            }
            for r in records
        ],
    )


async def release(session: AsyncSession, *, token: str) -> None:
    """Drop whatever ``token`` still holds (a tick that failed half-way)."""
    await session.exec(
        sa.update(FeedState)
        .where(col(FeedState.claim_token) == token)
        .values(claimed_until=None, claim_token=None)
        .execution_options(synchronize_session=False)
    )


async def prune_history(session: AsyncSession, *, keep: int) -> int:
    """Keep the latest ``keep`` polls of every account; return how many rows went."""
    ranked = select(
        col(Poll.id).label("id"),
        func.row_number()
        .over(partition_by=col(Poll.account_id), order_by=col(Poll.id).desc())
        .label("rn"),
    ).subquery()
    doomed = select(ranked.c.id).where(ranked.c.rn > keep)
    result = await session.exec(
        sa.delete(Poll).where(col(Poll.id).in_(doomed)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def prune_old_polls(session: AsyncSession, *, before: datetime, batch: int = 10_000) -> int:
    """Delete up to ``batch`` polls started before ``before`` (by the ``started_at`` index; the
    caller commits between calls so a long backlog never holds one huge transaction)."""
    doomed = select(Poll.id).where(col(Poll.started_at) < before).limit(batch)
    result = await session.exec(
        sa.delete(Poll)
        .where(col(Poll.id).in_(doomed.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


async def get_state(session: AsyncSession, account_id: int) -> FeedState | None:
    return await session.get(FeedState, account_id)


async def states_for(session: AsyncSession, *, account_ids: Sequence[int]) -> dict[int, FeedState]:
    if not account_ids:
        return {}
    rows = await session.exec(select(FeedState).where(col(FeedState.account_id).in_(account_ids)))
    return {s.account_id: s for s in rows}


async def recent_polls(session: AsyncSession, *, account_id: int, limit: int = 5) -> list[Poll]:
    rows = await session.exec(
        select(Poll).where(Poll.account_id == account_id).order_by(col(Poll.id).desc()).limit(limit)
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class PollingHealth:
    """The figures /monitor shows."""

    monitored: int
    due: int
    claimed: int
    polled_last_hour: int
    failures_by_outcome: dict[str, int]
    failing_feeds: int
    never_succeeded: int


async def polling_health(session: AsyncSession, *, now: datetime) -> PollingHealth:
    live = (
        select(FeedState.account_id)
        .join(Account, col(Account.id) == FeedState.account_id)
        .where(col(Account.status).in_(POLLED_STATUSES), col(Account.feed_url).is_not(None))
    ).subquery()
    in_live = col(FeedState.account_id).in_(select(live.c.account_id))

    async def count(*where: sa.ColumnElement[bool]) -> int:
        stmt = select(func.count()).select_from(FeedState).where(in_live, *where)
        return int((await session.exec(stmt)).one())

    monitored = await count()
    due = await count(col(FeedState.next_poll_at) <= now)
    claimed = await count(col(FeedState.claimed_until) > now)
    failing = await count(col(FeedState.consecutive_failures) > 0)
    never = await count(col(FeedState.last_success_at).is_(None))
    polled = await session.exec(
        select(func.count()).select_from(Poll).where(Poll.started_at >= now - timedelta(hours=1))
    )
    failures = await session.exec(
        select(Poll.outcome, func.count())
        .where(
            Poll.started_at >= now - timedelta(hours=24),
            col(Poll.outcome).not_in(("ok", "not_modified", "no_posts")),
        )
        .group_by(col(Poll.outcome))
    )
    return PollingHealth(
        monitored=monitored,
        due=due,
        claimed=claimed,
        polled_last_hour=int(polled.one()),
        failures_by_outcome=dict(sorted(failures.all(), key=lambda kv: -kv[1])),
        failing_feeds=failing,
        never_succeeded=never,
    )
