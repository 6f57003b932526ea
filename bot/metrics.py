"""Prometheus metrics (prometheus-client), one registry per running bot.

Two kinds, both described in docs/operations.md:

- **State read from the database at scrape time** (:class:`DatabaseCollector`): polls and their
  latency over the last hour, the due backlog and its age, posts stored, open findings, the
  outbox by status and its delivery latency, reviews by state and SLA breaches, open cases.
  Every replica reports the same shared numbers; aggregate them with ``max``, not ``sum``.
- **What this process saw** (:class:`ProcessMetrics`): Bot API requests by outcome (429s
  included), webhook updates, the replica's role and whether the Bot API answered lately.

A scrape that cannot reach the database still answers: ``govbot_database_up`` is 0 and the
database families are left out, so an outage is visible rather than a scrape error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from loguru import logger
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.cases import ACTIVE_STATUSES
from governance.clock import Clock
from governance.review import ReviewStatus, deadline
from models import webhook
from models.accounts import Account
from models.cases import Case
from models.feeds import POLLED_STATUSES, FeedState, Poll, PollingHealth, polling_health
from models.findings import FindingStatus, StoredFinding
from models.outbox import OutboxMessage, OutboxStatus
from models.posts import Post
from models.reviews import Review

PREFIX = "govbot"
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60)
DELIVERY_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


@dataclass
class DatabaseSnapshot:
    """The database-backed numbers of one scrape."""

    polls_by_outcome: dict[str, int]
    poll_seconds: list[float]
    feeds: PollingHealth
    due_oldest_seconds: float
    posts: int
    findings: dict[tuple[str, str], int]
    outbox_by_status: dict[str, int]
    outbox_retried: int
    delivery_seconds: list[float]
    reviews_by_status: dict[str, int]
    review_sla_breaches: int
    cases_by_status: dict[str, int]
    webhook_backlog: int


async def read_snapshot(session: AsyncSession, now: datetime) -> DatabaseSnapshot:
    """Everything the database-backed metrics show, read in one session."""
    hour_ago = now - timedelta(hours=1)

    async def grouped(column: Any, *where: Any) -> dict[str, int]:
        query = select(column, func.count()).where(*where).group_by(column)
        return {str(key): int(n) for key, n in (await session.exec(query)).all()}

    async def count(model: Any, *where: Any) -> int:
        query = select(func.count()).select_from(model).where(*where)
        return int((await session.exec(query)).one())

    polls = await grouped(col(Poll.outcome), col(Poll.started_at) >= hour_ago)
    durations = [
        ms / 1000
        for ms in (
            await session.exec(select(Poll.duration_ms).where(col(Poll.started_at) >= hour_ago))
        ).all()
    ]
    oldest = (
        await session.exec(
            select(func.min(FeedState.next_poll_at))
            .join(Account, col(Account.id) == FeedState.account_id)
            .where(
                col(Account.status).in_(POLLED_STATUSES),
                col(Account.feed_url).is_not(None),
                col(FeedState.next_poll_at) <= now,
            )
        )
    ).one()
    findings_query = (
        select(StoredFinding.category, StoredFinding.severity, func.count())
        .where(col(StoredFinding.status) == FindingStatus.OPEN.value)
        .group_by(col(StoredFinding.category), col(StoredFinding.severity))
    )
    findings = {(c, s): int(n) for c, s, n in (await session.exec(findings_query)).all()}
    delivered = (
        await session.exec(
            select(OutboxMessage.created_at, OutboxMessage.sent_at).where(
                col(OutboxMessage.status) == OutboxStatus.SENT.value,
                col(OutboxMessage.sent_at) >= hour_ago,
            )
        )
    ).all()
    in_review = (
        await session.exec(select(Review).where(col(Review.status) == ReviewStatus.IN_REVIEW.value))
    ).all()
    breaches = sum(
        1
        for review in in_review
        if review.stage_index < len(review.specs)
        and deadline(review.stage_started_at, review.stage.sla_hours) < now
    )
    return DatabaseSnapshot(
        polls_by_outcome=polls,
        poll_seconds=durations,
        feeds=await polling_health(session, now=now),
        due_oldest_seconds=(now - _utc(oldest)).total_seconds() if oldest else 0.0,
        posts=await count(Post),
        findings=findings,
        outbox_by_status=await grouped(col(OutboxMessage.status)),
        outbox_retried=await count(
            OutboxMessage,
            col(OutboxMessage.status) == OutboxStatus.PENDING.value,
            col(OutboxMessage.attempts) > 0,
        ),
        delivery_seconds=[
            max(0.0, (sent - created).total_seconds()) for created, sent in delivered if sent
        ],
        reviews_by_status=await grouped(col(Review.status)),
        review_sla_breaches=breaches,
        cases_by_status=await grouped(
            col(Case.status), col(Case.status).in_([s.value for s in ACTIVE_STATUSES])
        ),
        webhook_backlog=await webhook.backlog(session),
    )


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _histogram(
    name: str, doc: str, values: list[float], buckets: Iterable[float]
) -> GaugeHistogramMetricFamily:
    edges = list(buckets)
    counts = [sum(1 for v in values if v <= edge) for edge in edges]
    rows = [(str(edge), float(c)) for edge, c in zip(edges, counts, strict=True)]
    rows.append(("+Inf", float(len(values))))
    return GaugeHistogramMetricFamily(name, doc, buckets=rows, gsum_value=float(sum(values)))


def _labelled(name: str, doc: str, labels: list[str], values: dict[Any, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=labels)
    for key, count in sorted(values.items(), key=lambda kv: str(kv[0])):
        family.add_metric([str(k) for k in (key if isinstance(key, tuple) else (key,))], count)
    return family


class DatabaseCollector(Collector):
    """Reads the snapshot the web handler refreshed just before rendering (scrapes are async,
    collectors are not)."""

    def __init__(self) -> None:
        self.snapshot: DatabaseSnapshot | None = None

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(f"{PREFIX}_database_up", "1 if the last scrape read the database")
        up.add_metric([], 1 if self.snapshot else 0)
        yield up
        s = self.snapshot
        if s is None:
            return
        p = PREFIX
        yield _labelled(
            f"{p}_polls_last_hour",
            "Feed polls in the last hour by outcome",
            ["outcome"],
            s.polls_by_outcome,
        )
        yield _histogram(
            f"{p}_poll_duration_seconds_last_hour",
            "Feed poll latency over the last hour",
            s.poll_seconds,
            LATENCY_BUCKETS,
        )
        yield GaugeMetricFamily(
            f"{p}_feeds_monitored", "Accounts whose feed is polled", value=s.feeds.monitored
        )
        yield GaugeMetricFamily(f"{p}_feeds_due", "Feeds due for a poll now", value=s.feeds.due)
        yield GaugeMetricFamily(
            f"{p}_feeds_failing", "Feeds whose last poll failed", value=s.feeds.failing_feeds
        )
        yield GaugeMetricFamily(
            f"{p}_feeds_due_oldest_seconds",
            "How long the most overdue feed has been due",
            value=s.due_oldest_seconds,
        )
        yield GaugeMetricFamily(f"{p}_posts_stored", "Posts stored", value=s.posts)
        yield _labelled(
            f"{p}_findings_open",
            "Open findings by category and severity",
            ["category", "severity"],
            s.findings,
        )
        yield _labelled(
            f"{p}_outbox_messages", "Outbox rows by status", ["status"], s.outbox_by_status
        )
        yield GaugeMetricFamily(
            f"{p}_outbox_retrying",
            "Pending outbox rows that failed at least once",
            value=s.outbox_retried,
        )
        yield _histogram(
            f"{p}_delivery_seconds_last_hour",
            "Outbox delivery latency (queued to sent) over the last hour",
            s.delivery_seconds,
            DELIVERY_BUCKETS,
        )
        yield _labelled(f"{p}_reviews", "Review requests by state", ["state"], s.reviews_by_status)
        yield GaugeMetricFamily(
            f"{p}_review_sla_breaches",
            "Drafts in review past their stage's time limit",
            value=s.review_sla_breaches,
        )
        yield _labelled(
            f"{p}_cases_open", "Open rectification cases by state", ["state"], s.cases_by_status
        )
        yield GaugeMetricFamily(
            f"{p}_webhook_backlog",
            "Pushed updates recorded but not processed yet",
            value=s.webhook_backlog,
        )


class ProcessMetrics:
    """What this process counts itself; one instance (and registry) per running bot."""

    def __init__(self, *, role: Callable[[], str]) -> None:
        self.registry = CollectorRegistry()
        self.database = DatabaseCollector()
        self.registry.register(self.database)
        self.api_requests = Counter(
            f"{PREFIX}_telegram_requests",
            "Bot API requests by outcome (ok, 429, client_error, server_error, network)",
            ["outcome"],
            registry=self.registry,
        )
        self.webhook_updates = Counter(
            f"{PREFIX}_webhook_updates",
            "Updates pushed to this replica by outcome (recorded, duplicate, rejected)",
            ["outcome"],
            registry=self.registry,
        )
        self.role = Gauge(
            f"{PREFIX}_replica_role",
            "1 for this replica's current role (single, leader, follower, webhook or jobs)",
            ["role"],
            registry=self.registry,
        )
        self.api_reachable = Gauge(
            f"{PREFIX}_telegram_reachable",
            "1 if the Bot API answered within the last minute",
            registry=self.registry,
        )
        self._role = role

    def refresh_role(self) -> None:
        current = self._role()
        for role in ("single", "leader", "follower", "webhook", "jobs"):
            self.role.labels(role=role).set(1 if role == current else 0)

    async def refresh_database(
        self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        async def read() -> DatabaseSnapshot:
            async with sessionmaker() as session:
                return await read_snapshot(session, clock.now())

        try:
            self.database.snapshot = await asyncio.wait_for(read(), 10)
        except Exception as exc:
            logger.warning("metrics: database not readable: {}", type(exc).__name__)
            self.database.snapshot = None


class RequestOutcomes(BaseRequestMiddleware):
    """An aiogram session middleware counting every Bot API request by outcome."""

    def __init__(self, metrics: ProcessMetrics, on_ok: Callable[[], None]) -> None:
        self.metrics = metrics
        self.on_ok = on_ok

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        outcome = "ok"
        try:
            response = await make_request(bot, method)
        except TelegramRetryAfter:
            outcome = "429"
            raise
        except TelegramNetworkError:
            outcome = "network"
            raise
        except TelegramAPIError as exc:
            outcome = "server_error" if "ServerError" in type(exc).__name__ else "client_error"
            raise
        finally:
            self.metrics.api_requests.labels(outcome=outcome).inc()
        if outcome == "ok":
            self.on_ok()
        return response
