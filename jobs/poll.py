"""The feed poller: claim due feeds, fetch them politely, parse off the loop, store idempotently.

One tick (:func:`poll_feeds`, every ``POLL_TICK_SECONDS``) claims the due feeds of polled
accounts with a lease (so two ticks, or a tick and a /check, never poll one feed twice), fetches
them concurrently through the one shared guarded session (total and per-host concurrency,
per-host spacing), parses changed bodies in worker processes, and hands each result to a writer
that stores posts once per (account, identity), records the poll and schedules the next one
with :func:`governance.polling.next_poll_delay`. Writes are batched: one transaction per batch
of results keeps SQLite's single writer busy with useful work, not with commits. The new-post
hooks (content checks, review matching) run after that transaction commits, in a short one per
account: the checks are CPU work, and the batch's write lock must not wait on them (a first
import of many archives held it for minutes); other writers get in between accounts.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
from loguru import logger
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from feeds.feedparse import ParsedFeed, ParsedItem
from feeds.fetch import FetchResult, fetch_feed
from feeds.outcome import PollOutcome
from feeds.parsing import FeedParser, ParseTimeout
from feeds.politeness import HostPacer, host_key, interleave_by_host
from governance.activity import counts_as_activity
from governance.clock import Clock
from governance.polling import ServerHints, next_poll_delay
from jobs.polltypes import (
    USER_AGENT,
    CheckReport,
    FeedResult,
    NewPostsHook,
    PollerConfig,
    StoredItem,
    TickSummary,
)
from jobs.postchecks import recheck_unchecked, run_new_post_hooks
from jobs.slices import LoopShare, Replies
from models import feeds, postchecks, posts
from models.feeds import Claimed, PollRecord
from models.postchecks import PostSource
from models.posts import NewPost

if TYPE_CHECKING:
    from bot.settings import Settings

WRITE_BATCH = 200
INSERT_CHUNK = 500
"""New posts per insert statement: a write batch of 200 changed feeds is up to 6,000 rows, and
binding them in one statement held the loop (and any reply on it) for tens of milliseconds."""
_PRUNE_BATCH = 5000
_MAX_ERROR = 300


async def poll_feeds(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    http: aiohttp.ClientSession,
    parser: FeedParser,
    rng: random.Random | None = None,
    config: PollerConfig | None = None,
    hooks: Sequence[NewPostsHook] = (),
    replies: Replies | None = None,
) -> TickSummary:
    """One scheduler tick: poll every due feed, at most ``POLL_MAX_PER_TICK`` of them.
    ``replies``: the chat in this process, which goes first (:class:`jobs.slices.LoopShare`)."""
    poller = Poller(
        sessionmaker=sessionmaker,
        clock=clock,
        http=http,
        parser=parser,
        config=config or PollerConfig.from_settings(settings),
        rng=rng or random.Random(),
        hooks=hooks,
        replies=replies,
    )
    return await poller.tick()


async def check_account(
    account_id: int,
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    clock: Clock,
    settings: Settings,
    http: aiohttp.ClientSession,
    parser: FeedParser,
    rng: random.Random | None = None,
    hooks: Sequence[NewPostsHook] = (),
) -> CheckReport:
    """Poll one account now (for /check), honouring its cooldown and any running tick."""
    poller = Poller(
        sessionmaker=sessionmaker,
        clock=clock,
        http=http,
        parser=parser,
        config=PollerConfig.from_settings(settings),
        rng=rng or random.Random(),
        hooks=hooks,
    )
    return await poller.check(account_id)


class Poller:
    """The machinery of one tick or one check; holds no state beyond its run."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        http: aiohttp.ClientSession,
        parser: FeedParser,
        config: PollerConfig,
        rng: random.Random,
        hooks: Sequence[NewPostsHook] = (),
        replies: Replies | None = None,
    ) -> None:
        self.sessionmaker, self.clock, self.http = sessionmaker, clock, http
        self.parser, self.config, self.rng = parser, config, rng
        self.hooks = tuple(hooks)
        self.replies = replies
        self.pacer = HostPacer(per_host=config.per_host, spacing=config.spacing)
        self.token = secrets.token_hex(8)

    async def tick(self) -> TickSummary:
        if self.hooks:  # posts a stopped process stored and never checked: checked first
            await recheck_unchecked(
                self.sessionmaker, self.hooks, source=PostSource.FEED, clock=self.clock
            )
        now = self.clock.now()
        async with self.sessionmaker() as session:
            # no feeds.ensure_states here: account writes keep the poll state in step
            # (models.feedstate.follow_accounts) and reconcile_feed_states is the safety net
            claimed = await feeds.claim_due(
                session,
                now=now,
                lease=self.config.lease,
                limit=self.config.max_per_tick,
                token=self.token,
            )
            await session.commit()
        summary = TickSummary(claimed=len(claimed))
        if not claimed:
            return summary
        # each feed's politeness key once (a yarl parse, IP check included: ≈ 5 % of the
        # poller's own CPU when the pacer computed it again for every poll)
        hosts = [host_key(c.feed_url) for c in claimed]
        queue = interleave_by_host(list(zip(claimed, hosts, strict=True)), hosts)
        results: asyncio.Queue[FeedResult | None] = asyncio.Queue(maxsize=WRITE_BATCH * 2)
        writer = asyncio.create_task(self._write_all(results, summary), name="poll-writer")
        try:
            workers = [
                asyncio.create_task(self._work(queue, results))
                for _ in range(min(self.config.concurrency, len(queue)))
            ]
            try:
                await asyncio.gather(*workers)
            finally:
                for worker in workers:
                    worker.cancel()
                await results.put(None)
                await writer
        finally:
            if not writer.done():
                writer.cancel()
            async with self.sessionmaker() as session:
                await feeds.release(session, token=self.token)
                await session.commit()
        logger.info(
            "poll tick: {} claimed, {} polled, {} new posts, outcomes {}",
            summary.claimed,
            summary.polled,
            summary.new_posts,
            summary.outcomes,
        )
        return summary

    async def check(self, account_id: int) -> CheckReport:
        now = self.clock.now()
        async with self.sessionmaker() as session:
            await feeds.ensure_states(session, now=now, account_ids=[account_id])
            claimed = await feeds.claim_one(
                session,
                account_id=account_id,
                now=now,
                lease=self.config.lease,
                token=self.token,
                cooldown=self.config.cooldown,
            )
            await session.commit()
            if claimed is None:
                state = await feeds.get_state(session, account_id)
                if state is None:
                    return CheckReport(status="no_feed")
                left = await feeds.cooldown_left(
                    session, account_id=account_id, now=now, cooldown=self.config.cooldown
                )
                if left is not None:
                    return CheckReport(status="cooldown", retry_in=left)
                return CheckReport(status="busy")
        try:
            result = await self._poll(claimed)
            records, stored = await self._store([result], manual=True)
            await self._run_hooks(stored)
        finally:
            async with self.sessionmaker() as session:
                await feeds.release(session, token=self.token)
                await session.commit()
        record = records[0]
        return CheckReport(
            status="polled",
            outcome=result.outcome,
            http_status=record.http_status,
            items_seen=record.items_seen,
            items_new=record.items_new,
            error=record.error,
            next_poll_at=record.next_poll_at,
        )

    # --- fetching -----------------------------------------------------------------------------

    async def _work(
        self, queue: list[tuple[Claimed, str]], results: asyncio.Queue[FeedResult | None]
    ) -> None:
        share = LoopShare(self.replies)
        while queue:
            claimed, host = queue.pop()  # before the wait: the other workers share the queue
            await share.checkpoint()
            try:
                result = await self._poll(claimed, host=host, share=share)
            except Exception as exc:  # a bug must cost one feed, never the tick
                logger.exception("poll of account {} failed", claimed.account_id)
                result = self._crashed(claimed, exc)
            await results.put(result)

    async def _poll(
        self, claimed: Claimed, *, host: str | None = None, share: LoopShare | None = None
    ) -> FeedResult:
        """Fetch and parse one feed; ``host``: its politeness key, when the caller has it;
        ``share``: the tick's turn-taking with the chat, also between the fetch and the parse."""
        started_at = self.clock.now()
        began = time.monotonic()
        async with self.pacer.slot(host or host_key(claimed.feed_url)):
            fetched = await fetch_feed(
                self.http,
                claimed.feed_url,
                policy=self.config.policy,
                timeout=self.config.timeout,
                user_agent=USER_AGENT,
                etag=claimed.etag,
                last_modified=claimed.last_modified,
                max_bytes=self.config.max_bytes,
                clock=self.clock.now,
            )
        outcome, error, parsed = fetched.outcome, fetched.error, None
        if outcome is PollOutcome.OK and fetched.body is not None:
            if share is not None:
                await share.checkpoint()
            try:
                parsed = await self.parser.parse(
                    fetched.body, fetched.headers, first_seen=started_at, defer_text=True
                )
            except ParseTimeout as exc:  # a hostile or monstrous document: back off like a failure
                outcome, error = PollOutcome.TOO_LARGE, str(exc)
            fetched.body = None  # the writer needs the items, not 40 KB of bytes
            if parsed is None:
                pass
            elif not parsed.is_feed:
                outcome, error = PollOutcome.NOT_A_FEED, parsed.bozo_error or "not a feed"
            elif parsed.bozo:  # readable despite defects: use it, record the problem
                error = parsed.bozo_error
        return FeedResult(
            claimed=claimed,
            started_at=started_at,
            fetched=fetched,
            parsed=parsed,
            outcome=outcome,
            duration_ms=int((time.monotonic() - began) * 1000),
            error=error[:_MAX_ERROR] if error else None,
        )

    def _crashed(self, claimed: Claimed, exc: Exception) -> FeedResult:
        fetched = FetchResult(
            outcome=PollOutcome.NETWORK, url=claimed.feed_url, final_url=claimed.feed_url
        )
        return FeedResult(
            claimed=claimed,
            started_at=self.clock.now(),
            fetched=fetched,
            parsed=None,
            outcome=PollOutcome.NETWORK,
            duration_ms=0,
            error=f"internal error: {type(exc).__name__}"[:_MAX_ERROR],
        )

    # --- writing ------------------------------------------------------------------------------

    async def _write_all(
        self, results: asyncio.Queue[FeedResult | None], summary: TickSummary
    ) -> None:
        done = False
        share = LoopShare(self.replies)
        while not done:
            batch: list[FeedResult] = []
            item = await results.get()
            if item is None:
                break
            batch.append(item)
            while len(batch) < WRITE_BATCH:
                try:
                    item = results.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    done = True
                    break
                batch.append(item)
            await share.checkpoint()
            try:
                records, stored = await self._store(batch)
            except Exception:
                logger.exception("storing {} poll results failed; leases will expire", len(batch))
                continue
            for result, record in zip(batch, records, strict=True):
                summary.add(result, record.items_new)
            await self._run_hooks(stored)

    async def _store(
        self, batch: list[FeedResult], *, manual: bool = False
    ) -> tuple[list[PollRecord], list[tuple[int, list[StoredItem]]]]:
        """Store the batch's new posts, then record every poll with its next poll time.

        Set-based: one lookup of the known (account, identity) pairs and one insert for the
        whole batch, whatever the number of feeds in it. The new posts' text, compression and
        fingerprints are CPU work: done between the lookup and the write transaction, in slices
        with the replies first (:class:`~jobs.slices.LoopShare`), so neither the chat nor other
        writers wait on them (the insert's ``ON CONFLICT DO NOTHING`` covers a writer in
        between). Returns the records and, per account, the posts the new-post hooks are to see
        once this commits (:meth:`_run_hooks`).
        """
        now = self.clock.now()
        changed = {
            r.claimed.account_id: (r, _unique(r.parsed))
            for r in batch
            if r.outcome is PollOutcome.OK and r.parsed is not None
        }
        pairs = [(aid, i.identity) for aid, (_r, items) in changed.items() for i in items]
        known: set[tuple[int, str]] = set()
        if pairs:
            async with self.sessionmaker() as session:
                known = await posts.known_pairs(session, pairs=pairs)
        newest = {r.claimed.account_id: r.claimed.newest_post_at for r in batch}
        rows = posts.PostRows(rows=[], original={})
        slices = LoopShare(self.replies)
        for aid, (result, items) in changed.items():
            fresh, newest[aid] = self._fresh_posts(result, items, known)
            rows.extend(posts.post_rows({aid: fresh}, now=now, keep_body=self.config.keep_bodies))
            await slices.checkpoint()
        async with self.sessionmaker() as session:
            inserted = await posts.insert_rows(session, rows, chunk=INSERT_CHUNK, pause=_next_turn)
            new_counts: dict[int, int] = {}
            hooked: list[tuple[int, list[StoredItem]]] = []
            for aid, (_result, items) in changed.items():
                stored = [
                    StoredItem(inserted[aid, i.identity], i)
                    for i in items
                    if (aid, i.identity) in inserted
                ]
                new_counts[aid] = len(stored)
                if stored and self.hooks:
                    hooked.append((aid, stored))
            await postchecks.mark(
                session,
                posts=[(aid, s.post_id) for aid, stored in hooked for s in stored],
                source=PostSource.FEED,
                now=now,
            )
            recent = await posts.recent_counts(
                session, account_ids=list(newest), since=now - timedelta(days=7)
            )
            records = [
                self._record(
                    result,
                    recent.get(result.claimed.account_id, 0),
                    new_counts.get(result.claimed.account_id, 0),
                    newest[result.claimed.account_id],
                    now,
                    manual=manual,
                )
                for result in batch
            ]
            await feeds.record_polls(session, records=records, token=self.token)
            await session.commit()
        return records, hooked

    def _fresh_posts(
        self, result: FeedResult, items: list[ParsedItem], known: set[tuple[int, str]]
    ) -> tuple[list[NewPost], datetime | None]:
        """The items not stored yet, and the newest counting date once they are."""
        claimed = result.claimed
        newest_known = claimed.newest_post_at
        fresh: list[NewPost] = []
        newest = newest_known
        for item in items:
            if (claimed.account_id, item.identity) in known:
                continue
            item.finish_text()  # the parse left it: most items of a changed feed are stored
            published = item.published or result.started_at
            # An undated item is dated by when we first saw it; on the first successful poll
            # that would make a whole silent archive look fresh, so it does not count then.
            first_poll = claimed.last_success_at is None and newest_known is None
            counts = (item.published is not None or not first_poll) and counts_as_activity(
                published, newest_known=newest_known, thresholds=self.config.thresholds
            )
            fresh.append(
                NewPost(
                    identity=item.identity,
                    title=item.title,
                    link=item.link,
                    author=item.author,
                    published_at=published,
                    dated=item.published is not None,
                    body_text=item.body_text,
                    counts_as_activity=counts,
                )
            )
            if counts and (newest is None or published > newest):
                newest = published
        return fresh, newest

    async def _run_hooks(self, stored: list[tuple[int, list[StoredItem]]]) -> None:
        await run_new_post_hooks(
            self.sessionmaker,
            self.hooks,
            stored,
            now=self.clock.now(),
            share=LoopShare(self.replies),
        )

    def _record(
        self,
        result: FeedResult,
        posts_last_week: int,
        items_new: int,
        newest: datetime | None,
        now: datetime,
        *,
        manual: bool = False,
    ) -> PollRecord:
        fetched, claimed = result.fetched, result.claimed
        success = result.outcome.is_success
        failures = 0 if success else claimed.consecutive_failures + 1
        ttl = result.parsed.ttl_seconds if result.parsed is not None else None
        hints = ServerHints(
            ttl_seconds=ttl if ttl is not None else claimed.ttl_seconds,
            cache_seconds=fetched.cache_seconds,
            retry_after_seconds=fetched.retry_after_seconds,
        )
        delay = next_poll_delay(
            posts_last_week=posts_last_week,
            consecutive_failures=failures,
            hints=hints,
            jitter=self.rng.random(),
            schedule=self.config.schedule,
        )
        items_seen = len(result.parsed.items) if result.parsed is not None else 0
        no_posts = result.outcome is PollOutcome.NO_POSTS or (
            result.outcome is PollOutcome.OK and items_seen == 0
        )
        return PollRecord(
            account_id=claimed.account_id,
            started_at=result.started_at,
            outcome=result.outcome,
            success=success,
            http_status=fetched.status,
            duration_ms=result.duration_ms,
            items_seen=items_seen,
            items_new=items_new,
            error=result.error,
            etag=(fetched.etag or None) if success else claimed.etag,
            last_modified=(fetched.last_modified or None) if success else claimed.last_modified,
            ttl_seconds=ttl,
            next_poll_at=now + delay,
            consecutive_failures=failures,
            no_posts=no_posts,
            newest_post_at=newest,
            manual=manual,
        )


def _unique(parsed: ParsedFeed) -> list[ParsedItem]:
    """Items with distinct identities (a feed may repeat a guid); first occurrence wins."""
    seen: set[str] = set()
    out: list[ParsedItem] = []
    for item in parsed.items:
        if item.identity not in seen:
            seen.add(item.identity)
            out.append(item)
    return out


async def reconcile_feed_states(
    *, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> int:
    """Scheduled job: the safety net behind the write paths that keep poll state in step (an
    account written by hand in SQL, a restored dump): compares the whole registry with the
    state table, so it runs every few minutes, never per tick."""
    async with sessionmaker() as session:
        changed = await feeds.ensure_states(session, now=clock.now())
        await session.commit()
    if changed:
        logger.info("feed state reconciled: {} accounts had no or a stale poll state", changed)
    return changed


async def prune_poll_history(
    *, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    """Scheduled job: keep the latest ``POLL_HISTORY`` polls per account, none older than
    ``POLL_HISTORY_DAYS``; old rows go in batches, one transaction each."""
    async with sessionmaker() as session:
        removed = await feeds.prune_history(session, keep=settings.poll_history)
        await session.commit()
    before = clock.now() - timedelta(days=settings.poll_history_days)
    while True:
        async with sessionmaker() as session:
            gone = await feeds.prune_old_polls(session, before=before, batch=_PRUNE_BATCH)
            await session.commit()
        removed += gone
        if gone < _PRUNE_BATCH:
            return removed


async def expire_post_bodies(
    *, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, clock: Clock
) -> int:
    """Scheduled job: drop the bodies of posts first seen more than ``POST_BODY_DAYS`` ago
    (title, link, dates, fingerprint and findings stay); batches, one transaction each."""
    before = clock.now() - timedelta(days=settings.post_body_days)
    removed = 0
    while True:
        async with sessionmaker() as session:
            gone = await posts.expire_bodies(session, before=before, batch=_PRUNE_BATCH)
            await session.commit()
        removed += gone
        if gone < _PRUNE_BATCH:
            return removed


async def _next_turn() -> None:
    """Between two insert statements of one write transaction: let the loop run what is ready
    (a reply's next step), without waiting for the chat to go quiet while the transaction is
    open."""
    await asyncio.sleep(0)
