"""The poller's contracts: its knobs, the hook new posts go through, and what a tick or a /check
reports; split from :mod:`jobs.poll` so hooks and callers need not import the poller itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.feedparse import ParsedFeed, ParsedItem
from feeds.fetch import FetchResult
from feeds.netguard import GuardPolicy
from feeds.outcome import PollOutcome
from governance.activity import ActivityThresholds
from governance.polling import PollSchedule
from models.feeds import Claimed

if TYPE_CHECKING:
    from bot.settings import Settings
    from jobs.slices import LoopShare

USER_AGENT = "gov-media-bot/0.1 (+government new-media governance; feed monitor)"


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A post just stored, with the parsed item it came from (its HTML included)."""

    post_id: int
    item: ParsedItem


class NewPostsHook(Protocol):
    """Work on new posts once the poller committed them, in a transaction of its own."""

    async def __call__(
        self,
        session: AsyncSession,
        *,
        account_id: int,
        stored: Sequence[StoredItem],
        now: datetime,
    ) -> None: ...


@runtime_checkable
class PreparingHook(Protocol):
    """A hook with slow work (CPU, reads) that needs no lock:
    :func:`jobs.postchecks.run_new_post_hooks` runs ``prepare`` before it opens the write
    transaction (on SQLite: before it takes the database's one write lock, which every chat
    update waits for), then passes its result to the hook as ``prepared``. Called without
    ``prepared``, the hook does the work itself."""

    async def prepare(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        account_id: int,
        stored: Sequence[StoredItem],
        share: LoopShare | None = None,
    ) -> Any: ...

    async def __call__(
        self,
        session: AsyncSession,
        *,
        account_id: int,
        stored: Sequence[StoredItem],
        now: datetime,
        prepared: Any = None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class PollerConfig:
    """The poller's knobs, from settings."""

    concurrency: int = 50
    per_host: int = 2
    spacing: float = 0.5
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    lease: timedelta = timedelta(minutes=15)
    max_per_tick: int = 20_000
    cooldown: timedelta = timedelta(seconds=60)
    schedule: PollSchedule = field(default_factory=PollSchedule)
    thresholds: ActivityThresholds = field(default_factory=ActivityThresholds)
    policy: GuardPolicy = field(default_factory=GuardPolicy)
    keep_bodies: bool = True
    """Store post bodies (``POST_BODY_DAYS`` > 0); they expire by a separate job."""

    @classmethod
    def from_settings(cls, settings: Settings) -> PollerConfig:
        return cls(
            concurrency=settings.poll_concurrency,
            per_host=settings.poll_per_host,
            spacing=settings.poll_host_spacing_ms / 1000,
            timeout=settings.poll_timeout,
            max_bytes=settings.feed_max_bytes,
            lease=timedelta(seconds=settings.poll_lease_seconds),
            max_per_tick=settings.poll_max_per_tick,
            cooldown=timedelta(seconds=settings.check_cooldown_seconds),
            schedule=settings.poll_schedule(),
            thresholds=settings.activity_thresholds(),
            policy=guard_policy(settings),
            keep_bodies=settings.post_body_days > 0,
        )


def guard_policy(settings: Settings) -> GuardPolicy:
    return GuardPolicy(
        allow_private=settings.allow_private_feeds,
        allowed_hosts=frozenset(settings.feed_allowed_hosts),
        only_allowed=settings.feed_allowed_only,
    )


@dataclass(slots=True)
class FeedResult:
    """One fetched (and maybe parsed) feed on its way to the writer."""

    claimed: Claimed
    started_at: datetime
    fetched: FetchResult
    parsed: ParsedFeed | None
    outcome: PollOutcome
    duration_ms: int
    error: str | None


@dataclass(slots=True)
class TickSummary:
    claimed: int = 0
    polled: int = 0
    new_posts: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    durations_ms: list[int] = field(default_factory=list)
    changed: int = 0
    unchanged: int = 0

    def add(self, result: FeedResult, new: int) -> None:
        self.polled += 1
        self.new_posts += new
        self.outcomes[result.outcome.value] = self.outcomes.get(result.outcome.value, 0) + 1
        self.durations_ms.append(result.duration_ms)
        if result.outcome is PollOutcome.OK:
            self.changed += 1
        elif result.outcome is PollOutcome.NOT_MODIFIED:
            self.unchanged += 1


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What /check tells the person: the poll's outcome, or why nothing was polled."""

    status: str  # polled | cooldown | busy | no_feed
    outcome: PollOutcome | None = None
    http_status: int | None = None
    items_seen: int = 0
    items_new: int = 0
    error: str | None = None
    next_poll_at: datetime | None = None
    retry_in: timedelta | None = None
