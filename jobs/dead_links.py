"""Find links in recent posts that no longer resolve (失效链接), with a cache per URL.

A link is dead when its server says so (404 or 410) or when it cannot be reached on two checks
in a row (a domain that expired is how gambling sites take over old links). Timeouts, blocks
and refusals by the SSRF guard prove nothing either way and are only retried later. Every
distinct URL is checked at most once per TTL, however many posts carry it; a link newly found
dead becomes a ``dead_link`` finding on each post that has it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.fetch import FetchResult, fetch_feed
from feeds.netguard import GuardPolicy
from feeds.outcome import PollOutcome
from governance.clock import Clock
from governance.quality import Finding
from governance.vocabulary import Category
from jobs.polltypes import USER_AGENT
from models import findings, links
from models.links import LinkState

if TYPE_CHECKING:
    from bot.settings import Settings

DEAD_STATUSES = frozenset({404, 410})
UNREACHABLE_AFTER = 2  # consecutive network failures before a link counts as dead


@dataclass(slots=True)
class DeadLinkSummary:
    checked: int = 0
    dead: int = 0
    findings: int = 0


def judge(result: FetchResult, *, failures: int) -> tuple[LinkState, int]:
    """The link's state and its new consecutive-failure count, from one fetch."""
    if result.status in DEAD_STATUSES:
        return LinkState.DEAD, failures + 1
    if result.outcome is PollOutcome.NETWORK and result.status is None:
        failures += 1
        return (LinkState.DEAD if failures >= UNREACHABLE_AFTER else LinkState.UNKNOWN), failures
    if (
        result.status is not None and result.status < 400
    ) or result.outcome is PollOutcome.TOO_LARGE:
        return LinkState.ALIVE, 0
    return LinkState.UNKNOWN, failures


async def check_dead_links(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    http: aiohttp.ClientSession,
) -> DeadLinkSummary:
    """Check the links that are due; record findings for the newly dead ones."""
    now = clock.now()
    async with sessionmaker() as session:
        due = await links.due_urls(
            session,
            now=now,
            window=timedelta(days=settings.dead_link_window_days),
            alive_ttl=timedelta(days=settings.dead_link_ttl_days),
            retry_ttl=timedelta(hours=12),
            limit=settings.dead_link_batch,
        )
    summary = DeadLinkSummary()
    if not due:
        return summary
    # Links come from post HTML, which strangers can write (hacked pages, spam): the feeds'
    # intranet exemptions do not apply; only an explicit setting (tests) lifts the guard.
    policy = GuardPolicy(
        allow_private=settings.allow_private_links,
        allowed_hosts=settings.closed_network,
        only_allowed=settings.feed_allowed_only,
    )
    gate = asyncio.Semaphore(settings.dead_link_concurrency)

    async def check(url: str) -> FetchResult:
        async with gate:
            return await fetch_feed(
                http,
                url,
                policy=policy,
                timeout=settings.dead_link_timeout,
                user_agent=USER_AGENT,
                max_bytes=65_536,
                clock=clock.now,
            )

    results = await asyncio.gather(*(check(url) for _h, url, _f in due))
    async with sessionmaker() as session:
        for (digest, url, failures), result in zip(due, results, strict=True):
            state, failures = judge(result, failures=failures)
            summary.checked += 1
            await links.save_check(
                session,
                url=url,
                state=state,
                http_status=result.status,
                failures=failures,
                error=result.error,
                now=now,
            )
            if state is LinkState.DEAD:
                summary.dead += 1
                summary.findings += await _flag(session, digest, url, result, now)
        await session.commit()
    return summary


async def _flag(
    session: AsyncSession, digest: str, url: str, result: FetchResult, now: datetime
) -> int:
    why = str(result.status) if result.status else "unreachable"
    count = 0
    for link in await links.posts_with(session, url_hash_value=digest):
        text = link.text or url
        finding = Finding(
            category=Category.DEAD_LINK,
            severity=Category.DEAD_LINK.severity,
            start=link.start,
            end=link.start + len(text),
            text=text[:200],
            suggestion=f"删除或更新失效链接 {url}"[:200],
            rule=f"dead_link.{why}",
        )
        stored = await findings.record_post_findings(
            session,
            account_id=link.account_id,
            post_id=link.post_id,
            checked_text=text,
            findings=[finding],
            now=now,
            excerpts=[f"{text}（{url}）"],
        )
        count += len(stored)
    return count
