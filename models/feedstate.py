"""The poll state of each polled account, kept in step with the registry where accounts are written.

``feed_state`` holds one row per polled account: the conditional-request validators, when to
poll next, the failure streak, and a lease (the queries over it live in :mod:`models.feeds`).
It is defined here, apart from those queries, so that the code that writes accounts
(:mod:`models.accounts`, the ledger import, the case workflows) can keep it in step in the same
transaction: :func:`follow_accounts` gives a newly polled account its state (due at once) and
resets the validators of one whose feed URL changed. The poll tick then never has to compare the
whole registry with the whole state table (1.35-1.8 s of PostgreSQL time per tick at a million
accounts); :func:`models.feeds.ensure_states` does that as a periodic safety net only.

An account that stops being polled (suspended, closed, feed URL removed) keeps its row, so its
poll history and health stay readable; the claim joins the account and skips it at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.activity import PollHealth
from governance.outcomes import PollOutcome
from governance.registry import AccountStatus
from models.base import EnumString, UTCDateTime, dialect_insert

#: Accounts whose feeds are polled: 在用 and 整改中 (a suspended or closed account is not).
POLLED_STATUSES = (AccountStatus.ACTIVE, AccountStatus.RECTIFYING)

_CHUNK = 1000


class FeedState(SQLModel, table=True):
    __tablename__ = "feed_state"

    account_id: int = Field(foreign_key="accounts.id", primary_key=True)
    feed_url: str = Field(max_length=2048)
    """The URL the validators below belong to; a changed account URL resets them."""
    etag: str | None = Field(default=None, max_length=512)
    last_modified: str | None = Field(default=None, max_length=128)
    ttl_seconds: int | None = None
    next_poll_at: datetime = Field(sa_type=UTCDateTime(), index=True)
    last_poll_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    consecutive_failures: int = 0
    last_outcome: PollOutcome | None = Field(default=None, sa_type=EnumString(PollOutcome))
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    no_posts: bool = False
    """The upstream said the account has published nothing (RSSHub "route is empty")."""
    newest_post_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    """Newest counting post known; re-surfaced items are judged against it."""
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime())
    claim_token: str | None = Field(default=None, max_length=32, index=True)
    checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    """Last on-demand /check, for its cooldown."""

    def health(self) -> PollHealth:
        return PollHealth(
            last_success=self.last_success_at, consecutive_failures=self.consecutive_failures
        )


def is_polled(feed_url: str | None, status: AccountStatus) -> bool:
    return bool(feed_url) and status in POLLED_STATUSES


def reset_state(session: AsyncSession, state: FeedState, *, feed_url: str, now: datetime) -> None:
    """The account's feed URL changed: the old validators and schedule do not apply to it."""
    state.feed_url, state.etag, state.last_modified = feed_url, None, None
    state.next_poll_at, state.consecutive_failures = now, 0
    state.last_success_at, state.ttl_seconds = None, None
    session.add(state)


async def insert_states(
    session: AsyncSession, accounts: Sequence[tuple[int, str]], *, now: datetime
) -> None:
    """New state rows, due at once, for (account id, feed URL) pairs; a row that exists (a
    concurrent writer or tick made it) is left as it is: the first one wins."""
    if not accounts:
        return
    insert = dialect_insert(session)
    await session.exec(
        insert(FeedState).on_conflict_do_nothing(index_elements=["account_id"]),
        params=[
            {
                "account_id": account_id,
                "feed_url": feed_url,
                "next_poll_at": now,
                "consecutive_failures": 0,
                "no_posts": False,
            }
            for account_id, feed_url in accounts
        ],
    )


async def follow_accounts(
    session: AsyncSession,
    accounts: Iterable[tuple[int | None, str | None, AccountStatus]],
    *,
    now: datetime,
) -> int:
    """Keep the poll state of just-written accounts (id, feed URL, status) in step, in the
    writer's transaction: a polled account without state gets one, due now; a changed feed URL
    resets the validators. Returns how many states were created or reset."""
    polled = {
        aid: url for aid, url, status in accounts if aid is not None and is_polled(url, status)
    }
    if not polled:
        return 0
    ids = sorted(polled)
    known: dict[int, FeedState] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = await session.exec(
            select(FeedState).where(col(FeedState.account_id).in_(ids[start : start + _CHUNK]))
        )
        known.update((s.account_id, s) for s in rows)
    fresh: list[tuple[int, str]] = []
    changed = 0
    for aid in ids:
        url = polled[aid]
        assert url is not None  # is_polled
        state = known.get(aid)
        if state is None:
            fresh.append((aid, url))
        elif state.feed_url != url:
            reset_state(session, state, feed_url=url, now=now)
        else:
            continue
        changed += 1
    await insert_states(session, fresh, now=now)
    if changed:
        await session.flush()
    return changed
