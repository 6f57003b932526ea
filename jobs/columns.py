"""The column watcher: read each website's watched pages like feeds and store their items.

A tick (:func:`watch_columns`) claims due pages (the home page and every column) with a lease,
fetches them through the one guarded session with the feeds' politeness (per-host concurrency
and spacing), size cap and conditional requests, turns each changed list page into items
(:func:`feeds.listpage.extract_items`, off the event loop) and stores new items as posts of
the website's account, once per (column, link). New items go through the poller's content
check hook (:class:`jobs.quality_scan.QualityScan`), so their titles get the same checks as
posts; the pre-publication review matching is for new-media accounts and is not applied. The
home page is also stored once a day as a snapshot post holding its links, so the dead-link job
checks them and the content checker sees hidden and off-site links (the gambling-domain rules).
"""

from __future__ import annotations

import asyncio
import functools
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.feedparse import ParsedItem
from feeds.fetch import FetchResult, fetch_feed
from feeds.listpage import ListPage, extract_items, looks_like_portal
from feeds.outcome import PollOutcome
from feeds.politeness import HostPacer, host_key, interleave_by_host
from governance.clock import Clock
from governance.websites import ColumnClass
from jobs.polltypes import USER_AGENT, NewPostsHook, StoredItem, guard_policy
from jobs.postchecks import recheck_unchecked, run_new_post_hooks
from jobs.quality_scan import QualityScan
from models import postchecks, posts, websites
from models.base import begin_writing
from models.postchecks import PostSource
from models.posts import NewPost
from models.websites import ColumnClaim, ColumnPoll

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.settings import Settings

SNAPSHOT_HTML_MAX = 500_000  # characters of home page HTML the content checker reads


@dataclass(slots=True)
class ColumnTick:
    claimed: int = 0
    read: int = 0
    new_items: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Read:
    claim: ColumnClaim
    started_at: datetime
    fetched: FetchResult
    outcome: PollOutcome
    page: ListPage | None = None
    portal: bool | None = None
    html: str | None = None
    error: str | None = None


async def watch_columns(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    http: aiohttp.ClientSession,
    rng: random.Random | None = None,
    hooks: Sequence[NewPostsHook] = (),
) -> ColumnTick:
    """Scheduled job: read every due page, at most ``POLL_MAX_PER_TICK`` of them."""
    rng = rng or random.Random()
    token = secrets.token_hex(8)
    # the content checks run after the commit, as for feeds; website items are not matched
    # against reviews or repost tasks (those are for new-media accounts)
    checks = [h for h in hooks if isinstance(h, QualityScan)]
    if checks:  # items a stopped process stored and never checked: checked first
        await recheck_unchecked(sessionmaker, checks, source=PostSource.COLUMN, clock=clock)
    now = clock.now()
    async with sessionmaker() as session:
        claimed = await websites.claim_due_columns(
            session,
            now=now,
            lease=timedelta(seconds=settings.poll_lease_seconds),
            limit=settings.poll_max_per_tick,
            token=token,
        )
        await session.commit()
    tick = ColumnTick(claimed=len(claimed))
    if not claimed:
        return tick
    pacer = HostPacer(per_host=settings.poll_per_host, spacing=settings.poll_host_spacing_ms / 1000)
    queue = interleave_by_host(claimed, [host_key(c.url) for c in claimed])
    reads: list[_Read] = []

    async def work() -> None:
        while queue:
            claim = queue.pop()
            try:
                reads.append(await _read(claim, http=http, pacer=pacer, clock=clock, s=settings))
            except Exception as exc:  # a bug must cost one page, never the tick
                logger.exception("reading column {} failed", claim.id)
                fetched = FetchResult(
                    outcome=PollOutcome.NETWORK, url=claim.url, final_url=claim.url
                )
                reads.append(
                    _Read(
                        claim, clock.now(), fetched, PollOutcome.NETWORK, error=type(exc).__name__
                    )
                )

    try:
        await asyncio.gather(*(work() for _ in range(min(settings.poll_concurrency, len(queue)))))
        checked: list[tuple[int, list[StoredItem]]] = []
        async with sessionmaker() as session:
            # savepoints per column below: their reads must not start a stale SQLite snapshot
            await begin_writing(session)
            for read in reads:
                mine: list[tuple[int, list[StoredItem]]] = []
                try:
                    async with session.begin_nested():
                        new = await _store(
                            session, read, settings=settings, stored=mine, checked=bool(checks)
                        )
                        poll = _record(read, new, settings=settings, now=clock.now(), rng=rng)
                        await websites.record_column_poll(session, poll=poll, token=token)
                except Exception:
                    logger.exception(
                        "storing column {} failed; its lease will expire", read.claim.id
                    )
                    continue
                checked.extend(mine)
                tick.read += 1
                tick.new_items += new[0]
                tick.outcomes[read.outcome.value] = tick.outcomes.get(read.outcome.value, 0) + 1
            await session.commit()
        await run_new_post_hooks(sessionmaker, checks, checked, now=clock.now())
    finally:
        async with sessionmaker() as session:
            await websites.release_columns(session, token=token)
            await session.commit()
    logger.info("column tick: {} claimed, {} new items", tick.claimed, tick.new_items)
    return tick


async def _read(
    claim: ColumnClaim,
    *,
    http: aiohttp.ClientSession,
    pacer: HostPacer,
    clock: Clock,
    s: Settings,
) -> _Read:
    started_at = clock.now()
    async with pacer.slot(host_key(claim.url)):
        fetched = await fetch_feed(
            http,
            claim.url,
            policy=guard_policy(s),
            timeout=s.poll_timeout,
            user_agent=USER_AGENT,
            etag=claim.etag,
            last_modified=claim.last_modified,
            max_bytes=s.feed_max_bytes,
            clock=clock.now,
        )
    read = _Read(claim, started_at, fetched, fetched.outcome, error=fetched.error)
    if fetched.outcome is PollOutcome.NO_POSTS:  # an upstream "nothing here" page: read, empty
        read.outcome, read.page = PollOutcome.OK, ListPage()
    if fetched.outcome is not PollOutcome.OK or fetched.body is None:
        return read
    body, content_type = fetched.body, fetched.headers.get("content-type")
    fetched.body = None
    home = claim.kind is ColumnClass.HOME
    read.page = await asyncio.to_thread(
        functools.partial(
            extract_items,
            body,
            url=fetched.final_url,
            content_type=content_type,
            selector=claim.selector,
            today=started_at.astimezone(s.tz).date(),  # year-less dates by the injected clock
            all_blocks=home,  # a home page shows several columns' lists
            column_name=None if home else claim.name,  # a list under its own heading weighs more
        )
    )
    if home:
        read.portal = await asyncio.to_thread(
            functools.partial(
                looks_like_portal, body, url=fetched.final_url, content_type=content_type
            )
        )
        read.html = body.decode(read.page.encoding, "replace")[:SNAPSHOT_HTML_MAX]
    return read


def _aware(item_date: datetime | None, tz: ZoneInfo, now: datetime) -> datetime | None:
    """The site's local date and time as UTC, never later than now (a misdated item)."""
    if item_date is None:
        return None
    return min(item_date.replace(tzinfo=tz).astimezone(UTC), now)


async def _store(
    session: AsyncSession,
    read: _Read,
    *,
    settings: Settings,
    stored: list[tuple[int, list[StoredItem]]],
    checked: bool,
) -> tuple[int, datetime | None]:
    """Store the page's new items; return how many were new and the newest item date.
    ``checked``: the items go through the content checks once the batch commits (they are
    recorded as awaiting them until then, :mod:`models.postchecks`)."""
    claim, page, now = read.claim, read.page, read.started_at
    newest = claim.last_update
    if page is None:
        return 0, newest
    fresh: dict[str, tuple[NewPost, ParsedItem]] = {}
    for item in page.items:
        identity = websites.item_identity(claim.id, item.link)
        if identity in fresh:
            continue
        published = _aware(item.published_at, settings.tz, now)
        if published is not None and (newest is None or published > newest):
            newest = published
        parsed = ParsedItem(
            identity=identity,
            guid=None,
            title=item.title,
            link=item.link,
            author=claim.name,
            published=published,
            body_text="",
            body_html="",
        )
        post = NewPost(
            identity=identity,
            title=item.title[:1000],
            link=item.link[:2048],
            author=claim.name[:200],
            published_at=published or now,
            dated=published is not None,
            body_text="",
            counts_as_activity=published is not None,
        )
        fresh[identity] = (post, parsed)
    if read.html is not None:
        _add_snapshot(fresh, read, settings.tz)
    aid = claim.account_id
    known = await posts.known_pairs(session, pairs=[(aid, k) for k in fresh])
    todo = {k: v for k, v in fresh.items() if (aid, k) not in known}
    rows = await posts.insert_many(
        session,
        posts={aid: [p for p, _i in todo.values()]},
        now=now,
        keep_body=settings.post_body_days > 0,
    )
    inserted = {identity: post_id for (_a, identity), post_id in rows.items()}
    if inserted and checked:  # checked once the batch commits (:func:`run_new_post_hooks`)
        stored.append((aid, [StoredItem(inserted[k], todo[k][1]) for k in todo if k in inserted]))
        await postchecks.mark(
            session,
            posts=[(aid, pid) for pid in inserted.values()],
            source=PostSource.COLUMN,
            now=now,
        )
    items_new = sum(1 for k in inserted if not k.startswith("h"))
    return items_new, newest


def _add_snapshot(fresh: dict[str, tuple[NewPost, ParsedItem]], read: _Read, tz: ZoneInfo) -> None:
    """The home page once per local day, as a post whose HTML holds every link on it."""
    claim, now = read.claim, read.started_at
    day = now.astimezone(tz).strftime("%Y-%m-%d")
    identity = f"h{claim.id}:{day}"
    title = f"首页快照 {day}"
    html = read.html or ""
    fresh[identity] = (
        NewPost(
            identity=identity,
            title=title,
            link=read.fetched.final_url[:2048],
            author=claim.name[:200],
            published_at=now,
            dated=False,
            body_text="",
            counts_as_activity=False,
        ),
        ParsedItem(
            identity=identity,
            guid=None,
            title=title,
            link=read.fetched.final_url,
            author=claim.name,
            published=None,
            body_text="",
            body_html=html,
        ),
    )


def _record(
    read: _Read,
    new: tuple[int, datetime | None],
    *,
    settings: Settings,
    now: datetime,
    rng: random.Random,
) -> ColumnPoll:
    success = read.outcome.is_success
    failures = 0 if success else read.claim.consecutive_failures + 1
    interval = timedelta(minutes=settings.website_column_minutes)
    if success:
        delay = interval * (0.9 + 0.2 * rng.random())
    else:
        delay = min(interval, timedelta(minutes=15) * 2 ** min(failures - 1, 6))
    page, fetched = read.page, read.fetched
    method = page.method.value if page is not None else None
    note = page.reason.value if page is not None and page.reason is not None else None
    return ColumnPoll(
        column_id=read.claim.id,
        started_at=read.started_at,
        outcome=read.outcome,
        success=success,
        http_status=fetched.status,
        error=read.error,
        etag=(fetched.etag or None) if success else read.claim.etag,
        last_modified=(fetched.last_modified or None) if success else read.claim.last_modified,
        next_poll_at=now + delay,
        consecutive_failures=failures,
        new_items=new[0],
        last_update=new[1],
        method=method,
        portal=read.portal,
        note=note,
    )
