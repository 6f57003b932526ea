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
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from governance.clock import Clock
from governance.review import ReviewStatus, deadline, stages_from

PREFIX = "govbot"
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 60)
DELIVERY_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


@dataclass
class DatabaseSnapshot:
    """The database-backed numbers of one scrape."""

    polls_by_outcome: dict[str, int]
    poll_seconds: list[float]
    due: int
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


async def read_snapshot(engine: AsyncEngine, now: datetime) -> DatabaseSnapshot:
    hour_ago = now - timedelta(hours=1)
    async with engine.connect() as conn:

        async def pairs(query: str, **params: Any) -> dict[Any, int]:
            rows = (await conn.execute(sa.text(query).bindparams(**params))).all()
            return {tuple(r[:-1]) if len(r) > 2 else r[0]: int(r[-1]) for r in rows}

        async def scalar(statement: Any) -> Any:
            return (await conn.execute(statement)).scalar()

        polls = await pairs(
            "SELECT outcome, count(*) FROM polls WHERE started_at >= :t GROUP BY outcome",
            t=hour_ago.replace(tzinfo=None),
        )
        durations = [
            int(r[0]) / 1000
            for r in await conn.execute(
                sa.text("SELECT duration_ms FROM polls WHERE started_at >= :t").bindparams(
                    t=hour_ago.replace(tzinfo=None)
                )
            )
        ]
        naive_now = now.replace(tzinfo=None)
        due = int(
            await scalar(
                sa.text("SELECT count(*) FROM feed_state WHERE next_poll_at <= :n").bindparams(
                    n=naive_now
                )
            )
            or 0
        )
        oldest = await scalar(
            sa.text("SELECT min(next_poll_at) FROM feed_state WHERE next_poll_at <= :n").bindparams(
                n=naive_now
            )
        )
        oldest_dt = _naive(oldest)
        posts = int(await scalar(sa.text("SELECT count(*) FROM posts")) or 0)
        findings = await pairs(
            "SELECT category, severity, count(*) FROM findings WHERE status = 'open' "
            "GROUP BY category, severity"
        )
        outbox = await pairs("SELECT status, count(*) FROM outbox GROUP BY status")
        retried = int(
            await scalar(
                sa.text("SELECT count(*) FROM outbox WHERE status = 'pending' AND attempts > 0")
            )
            or 0
        )
        delivered = (
            await conn.execute(
                sa.text(
                    "SELECT created_at, sent_at FROM outbox WHERE sent_at >= :t AND status = 'sent'"
                ).bindparams(t=hour_ago.replace(tzinfo=None))
            )
        ).all()
        delivery = [
            max(0.0, (_naive(s) - _naive(c)).total_seconds())  # type: ignore[operator]
            for c, s in delivered
        ]
        reviews = await pairs("SELECT status, count(*) FROM reviews GROUP BY status")
        in_review = (
            await conn.execute(
                sa.text(
                    "SELECT stage_started_at, route, stage_index FROM reviews WHERE status = :s"
                ).bindparams(s=ReviewStatus.IN_REVIEW.value)
            )
        ).all()
        breaches = 0
        for started, route, index in in_review:
            specs = stages_from(route if isinstance(route, list) else _json(route))
            started_at = _naive(started)
            if started_at and 0 <= index < len(specs):
                breaches += deadline(started_at, specs[index].sla_hours) < naive_now
        cases = await pairs(
            "SELECT status, count(*) FROM cases WHERE status NOT IN ('resolved', 'closed') "
            "GROUP BY status"
        )
        backlog = int(
            await scalar(sa.text("SELECT count(*) FROM webhook_updates WHERE processed_at IS NULL"))
            or 0
        )
    return DatabaseSnapshot(
        polls_by_outcome=polls,
        poll_seconds=durations,
        due=due,
        due_oldest_seconds=(naive_now - oldest_dt).total_seconds() if oldest_dt else 0.0,
        posts=posts,
        findings=findings,
        outbox_by_status=outbox,
        outbox_retried=retried,
        delivery_seconds=delivery,
        reviews_by_status=reviews,
        review_sla_breaches=breaches,
        cases_by_status=cases,
        webhook_backlog=backlog,
    )


def _naive(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns text for raw queries
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=None) if isinstance(value, datetime) else None


def _json(value: Any) -> list[dict[str, Any]]:
    import json

    return list(json.loads(value)) if isinstance(value, str) else []


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
        yield GaugeMetricFamily(f"{p}_feeds_due", "Feeds due for a poll now", value=s.due)
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
            "1 for this replica's current role (single, leader or follower)",
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
        for role in ("single", "leader", "follower"):
            self.role.labels(role=role).set(1 if role == current else 0)

    async def refresh_database(self, engine: AsyncEngine, clock: Clock) -> None:
        try:
            self.database.snapshot = await asyncio.wait_for(read_snapshot(engine, clock.now()), 10)
        except Exception:
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
