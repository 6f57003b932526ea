"""The poller against the local feed server and a real database: storage, conditional requests,
claims, backoff, server hints, activity rules, the SSRF guard, parse workers, history and its
retention, post bodies (compressed, fingerprinted, expiring), and posts a killed tick left
unchecked, checked by a later one."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import random
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import pytest
from sqlmodel import col, func, select

from bot.scheduler import build_scheduler
from feeds import fastparse, feedparse
from feeds.fetch import make_feed_session
from feeds.netguard import GuardPolicy
from feeds.parsing import FeedParser
from feeds.politeness import HostPacer, interleave_by_host
from governance.clock import ManualClock
from governance.matching import fingerprint
from governance.roles import Role
from jobs.poll import expire_post_bodies, poll_feeds, prune_poll_history
from jobs.polltypes import PollerConfig, StoredItem
from jobs.postchecks import RECHECK_AFTER
from models.feeds import FeedState, Poll
from models.postchecks import UncheckedPost
from models.posts import Post
from tests.conftest import ADMIN_ID, make_settings
from tests.e2e.seed import seed_account, seed_person, seed_unit
from tests.fakes import FakeItem, FeedServer
from tests.jobs.conftest import LOOPBACK_ONLY
from workflows.checker import LiveChecker

pytestmark = pytest.mark.both_backends


@pytest.fixture
def settings(database_url: str):
    return make_settings(database_url, "http://127.0.0.1:9")


@pytest.fixture
async def http() -> AsyncIterator[object]:
    async with make_feed_session(LOOPBACK_ONLY) as session:
        yield session


@pytest.fixture
def parser() -> FeedParser:
    return FeedParser(workers=0)


@pytest.fixture
async def office(sessionmaker, clock: ManualClock) -> dict[str, int]:
    now = clock.now()
    unit = await seed_unit(sessionmaker, "某街道办", now)
    await seed_person(
        sessionmaker,
        telegram_id=ADMIN_ID,
        name="管理员",
        unit_id=None,
        roles=(Role.ADMIN,),
        now=now,
    )
    person = await seed_person(
        sessionmaker, telegram_id=5001, name="责任人", unit_id=unit, roles=(Role.EDITOR,), now=now
    )
    return {"unit": unit, "person": person}


async def add_account(sessionmaker, office, clock, url: str, name: str = "街道发布") -> int:
    return await seed_account(
        sessionmaker,
        admin_telegram_id=ADMIN_ID,
        unit_id=office["unit"],
        responsible_id=office["person"],
        name=name,
        feed_url=url,
        now=clock.now(),
    )


async def tick(sessionmaker, clock, settings, http, parser, **extra):
    return await poll_feeds(
        sessionmaker=sessionmaker,
        clock=clock,
        settings=settings,
        http=http,
        parser=parser,
        rng=random.Random(3),
        **extra,
    )


def with_policy(settings, policy: GuardPolicy) -> PollerConfig:
    """The poller's config with an SSRF policy that does not allow private addresses."""
    return dataclasses.replace(PollerConfig.from_settings(settings), policy=policy)


async def count(sessionmaker, model, *where) -> int:
    async with sessionmaker() as session:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await session.exec(stmt)).one())


async def state_of(sessionmaker, account_id: int) -> FeedState:
    async with sessionmaker() as session:
        state = await session.get(FeedState, account_id)
        assert state is not None
        return state


async def test_first_poll_stores_posts_and_records_the_poll(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        account = await add_account(sessionmaker, office, clock, server.feed_url("gbk"))
        summary = await tick(sessionmaker, clock, settings, http, parser)
    assert summary.polled == 1 and summary.new_posts == 2 and summary.outcomes == {"ok": 1}
    async with sessionmaker() as session:
        posts = list(await session.exec(select(Post).order_by(col(Post.published_at))))
        poll = (await session.exec(select(Poll))).one()
    assert [p.title for p in posts] == ["关于开展防汛检查的通知", "区政府召开常务会议"]
    assert posts[1].body_text == "会议研究了民生实事项目。\n详见附件。"
    assert posts[1].author == "区政府办公室" and posts[1].link == "https://example.gov.cn/news/2"
    assert all(p.first_seen_at == clock.now() and p.counts_as_activity for p in posts)
    assert (poll.outcome, poll.http_status, poll.items_seen, poll.items_new) == ("ok", 200, 2, 2)
    state = await state_of(sessionmaker, account)
    assert state.etag and state.last_success_at == clock.now() and state.claim_token is None
    # no posts in the last week (the feed's items are from 2024): the maximum interval, jittered
    assert timedelta(hours=5) < state.next_poll_at - clock.now() <= timedelta(hours=6.6)


async def test_repoll_is_conditional_and_never_stores_a_post_twice(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        await add_account(sessionmaker, office, clock, server.feed_url("rss"))
        await tick(sessionmaker, clock, settings, http, parser)
        clock.advance(hours=7)
        second = await tick(sessionmaker, clock, settings, http, parser)
        assert second.outcomes == {"not_modified": 1}
        assert server.requests_to("/feeds/rss")[-1].headers.get("If-None-Match")

        server.add_items("rss", FakeItem("新通知", guid="news-3", published=clock.now()))
        clock.advance(hours=7)
        third = await tick(sessionmaker, clock, settings, http, parser)
    assert third.outcomes == {"ok": 1} and third.new_posts == 1
    assert await count(sessionmaker, Post) == 3
    assert await count(sessionmaker, Poll) == 3


async def test_a_changed_feed_extracts_text_for_its_new_items_only(
    sessionmaker, clock, settings, http, parser, office, monkeypatch
) -> None:
    """The items a changed feed repeats are already stored: their HTML is never turned into
    text again; the new item's text is exactly what a full parse gives."""
    extracted: list[str] = []
    real = feedparse.html_to_text

    def counting(value: str, *, limit: int = feedparse.MAX_BODY_TEXT) -> str:
        extracted.append(value)
        return real(value, limit=limit)

    monkeypatch.setattr(feedparse, "html_to_text", counting)
    monkeypatch.setattr(fastparse, "html_to_text", counting)
    async with FeedServer() as server:
        await add_account(sessionmaker, office, clock, server.feed_url("rss"))
        await tick(sessionmaker, clock, settings, http, parser)
        first = len(extracted)
        server.add_items(
            "rss",
            FakeItem("新通知", guid="news-3", published=clock.now(), body="<p>新的<b>正文</b></p>"),
        )
        clock.advance(hours=7)
        second = await tick(sessionmaker, clock, settings, http, parser)
    assert first >= 2 and second.new_posts == 1
    assert extracted[first:] == ["<p>新的<b>正文</b></p>"]
    async with sessionmaker() as session:
        post = (await session.exec(select(Post).where(Post.identity == "news-3"))).one()
    assert post.body_text == "新的正文"


async def test_two_concurrent_ticks_poll_each_feed_once(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        for i in range(12):
            server.set_feed(f"f{i}", [FakeItem(f"第{i}条", guid=f"g{i}", published=clock.now())])
            await add_account(sessionmaker, office, clock, server.feed_url(f"f{i}"), name=f"号{i}")
        first, second = await asyncio.gather(
            tick(sessionmaker, clock, settings, http, parser),
            tick(sessionmaker, clock, settings, http, parser),
        )
        paths = [r.path for r in server.requests]
    assert first.polled + second.polled == 12
    assert sorted(paths) == sorted(set(paths)) and len(paths) == 12
    assert await count(sessionmaker, Post) == 12


async def test_failures_back_off_and_a_success_resets_them(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        server.set_feed("flaky", [FakeItem("一条", guid="f1", published=clock.now())])
        server.set_response("/feeds/flaky", status=500, body="down")
        account = await add_account(sessionmaker, office, clock, server.feed_url("flaky"))
        delays = []
        for _ in range(6):
            await tick(sessionmaker, clock, settings, http, parser)
            state = await state_of(sessionmaker, account)
            delays.append(state.next_poll_at - clock.now())
            clock.set(state.next_poll_at)
        assert state.consecutive_failures == 6 and state.last_outcome == "server_error"
        # the account's own rhythm (6 h without posts) until backoff exceeds it: 8 h, 16 h
        assert delays[0] <= timedelta(hours=6.6)
        assert delays[4] >= timedelta(hours=7.2) and delays[5] >= timedelta(hours=14.4)

        del server.canned["/feeds/flaky"]
        await tick(sessionmaker, clock, settings, http, parser)
    state = await state_of(sessionmaker, account)
    assert state.consecutive_failures == 0 and state.last_outcome == "ok"
    assert state.next_poll_at - clock.now() <= timedelta(hours=6.6)


async def test_retry_after_is_honoured(sessionmaker, clock, settings, http, parser, office) -> None:
    async with FeedServer() as server:
        account = await add_account(
            sessionmaker, office, clock, server.url("/status/429?retry_after=36000")
        )
        await tick(sessionmaker, clock, settings, http, parser)
    state = await state_of(sessionmaker, account)
    assert state.last_outcome == "rate_limited"
    assert state.next_poll_at - clock.now() >= timedelta(seconds=36000)


async def test_resurfaced_old_items_do_not_count_and_future_dates_are_clamped(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    now = clock.now()
    async with FeedServer() as server:
        server.set_feed("x", [FakeItem("最新", guid="new", published=now - timedelta(days=1))])
        await add_account(sessionmaker, office, clock, server.feed_url("x"))
        await tick(sessionmaker, clock, settings, http, parser)
        server.add_items(
            "x",
            FakeItem("旧文重发", guid="old", published=now - timedelta(days=200)),
            FakeItem("未来日期", guid="future", published=now + timedelta(days=30)),
        )
        clock.advance(hours=7)
        await tick(sessionmaker, clock, settings, http, parser)
    async with sessionmaker() as session:
        rows = {p.identity: p for p in await session.exec(select(Post))}
    assert not rows["old"].counts_as_activity
    assert rows["future"].published_at == clock.now() and rows["future"].counts_as_activity


@pytest.mark.parametrize(
    "path", ["/redirect?to=http://127.0.0.2:{port}/feeds/rss", "/redirect?to=http://[::1]/x"]
)
async def test_ssrf_guard_refuses_redirect_to_loopback_without_connecting(
    sessionmaker, clock, settings, http, parser, office, path
) -> None:
    """The session allows only 127.0.0.1 (the test server), never loopback in general."""
    async with FeedServer() as server:
        account = await add_account(
            sessionmaker, office, clock, server.url(path.format(port=server.port))
        )
        config = with_policy(settings, LOOPBACK_ONLY)
        await tick(sessionmaker, clock, settings, http, parser, config=config)
        assert len(server.requests) == 1  # the redirect itself; its target never reached
    state = await state_of(sessionmaker, account)
    assert state.last_outcome == "forbidden_address" and state.consecutive_failures == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:8080/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/rss",
        "http://[::ffff:127.0.0.1]/rss",
    ],
)
async def test_ssrf_guard_refuses_private_feed_urls(
    sessionmaker, clock, settings, http, parser, office, url
) -> None:
    account = await add_account(sessionmaker, office, clock, url)
    strict = with_policy(settings, GuardPolicy())  # nothing private allowed
    await tick(sessionmaker, clock, settings, http, parser, config=strict)
    state = await state_of(sessionmaker, account)
    assert state.last_outcome == "forbidden_address"


async def test_parse_worker_process_yields_the_same_posts(
    sessionmaker, clock, settings, http, office
) -> None:
    workers = FeedParser(workers=1)
    try:
        async with FeedServer() as server:
            await add_account(sessionmaker, office, clock, server.feed_url("atom"))
            summary = await tick(sessionmaker, clock, settings, http, workers)
    finally:
        await asyncio.to_thread(workers.close)
    assert summary.new_posts == 2 and summary.outcomes == {"ok": 1}


async def test_poll_history_is_bounded(sessionmaker, clock, settings, http, parser, office) -> None:
    async with FeedServer() as server:
        account = await add_account(sessionmaker, office, clock, server.feed_url("rss"))
        for _ in range(6):
            await tick(sessionmaker, clock, settings, http, parser)
            clock.advance(hours=7)
    bounded = settings.model_copy(update={"poll_history": 4})
    pruned = await prune_poll_history(sessionmaker=sessionmaker, settings=bounded, clock=clock)
    assert pruned == 2
    assert await count(sessionmaker, Poll, Poll.account_id == account) == 4


async def test_host_pacer_spaces_request_starts_per_host() -> None:
    # Simulated time, one timeline per request: a loaded machine wakes sleepers late, which
    # says nothing about the pacer's spacing (and made this test flaky on real time).
    elapsed: contextvars.ContextVar[float] = contextvars.ContextVar("elapsed", default=0.0)

    async def sleep(seconds: float) -> None:
        elapsed.set(elapsed.get() + seconds)
        await asyncio.sleep(0)

    pacer = HostPacer(per_host=2, spacing=0.05, monotonic=elapsed.get, sleep=sleep)
    starts: dict[str, list[float]] = {"a": [], "b": []}

    async def go(host: str) -> None:
        async with pacer.slot(host):
            starts[host].append(elapsed.get())

    await asyncio.gather(*(go(h) for h in "aaaabb"))
    gaps = [b - a for a, b in zip(starts["a"], starts["a"][1:], strict=False)]
    assert all(gap >= 0.045 for gap in gaps), gaps
    assert starts["b"][0] - starts["a"][0] < 0.04  # another host is not held back
    assert interleave_by_host([1, 2, 3, 4], ["x", "x", "x", "y"]) == [1, 4, 2, 3]


async def test_scheduler_registers_every_monitoring_job(
    sessionmaker, clock, settings, http
) -> None:
    parser = FeedParser(workers=0)
    scheduler = build_scheduler(
        settings=settings,
        sessionmaker=sessionmaker,
        clock=clock,
        http=http,
        parser=parser,
        live_checker=LiveChecker(),
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {
        "heartbeat",
        "poll_feeds",
        "evaluate_accounts",
        "prune_poll_history",
        "expire_post_bodies",
        "refresh_checker",
    } <= set(jobs)
    poll = jobs["poll_feeds"]
    assert poll.func is poll_feeds and poll.max_instances == 1 and poll.coalesce
    assert poll.trigger.interval == timedelta(seconds=settings.poll_tick_seconds)
    assert {"sessionmaker", "clock", "settings", "http", "parser", "rng"} <= set(poll.kwargs)
    assert jobs["evaluate_accounts"].kwargs["clock"] is clock


async def test_bodies_are_compressed_fingerprinted_and_expire_after_the_window(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        await add_account(sessionmaker, office, clock, server.feed_url("gbk"))
        await tick(sessionmaker, clock, settings, http, parser)
    async with sessionmaker() as session:
        post = (await session.exec(select(Post).where(Post.title == "区政府召开常务会议"))).one()
    # the current format (models.postbody): a format byte, then deflate of the GB18030 text
    assert post.body is not None and post.body[0] == 0x01
    assert len(post.body) < len("会议研究了民生实事项目。\n详见附件。".encode())
    assert post.body_text == "会议研究了民生实事项目。\n详见附件。"
    assert post.fingerprint == fingerprint(f"{post.title}\n{post.body_text}")

    kept = settings.model_copy(update={"post_body_days": 30})
    clock.advance(days=29)
    assert await expire_post_bodies(sessionmaker=sessionmaker, settings=kept, clock=clock) == 0
    clock.advance(days=2)
    assert await expire_post_bodies(sessionmaker=sessionmaker, settings=kept, clock=clock) == 2
    async with sessionmaker() as session:
        expired = await session.get(Post, post.id)
    assert expired is not None and expired.body is None and expired.body_text == ""
    # what findings, reports and review matching need stays
    assert (expired.title, expired.link, expired.published_at, expired.fingerprint) == (
        post.title,
        post.link,
        post.published_at,
        post.fingerprint,
    )


async def test_no_bodies_are_kept_when_the_window_is_zero(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        await add_account(sessionmaker, office, clock, server.feed_url("rss"))
        summary = await tick(
            sessionmaker, clock, settings.model_copy(update={"post_body_days": 0}), http, parser
        )
    assert summary.new_posts > 0
    async with sessionmaker() as session:
        posts = list(await session.exec(select(Post)))
    assert all(p.body is None and p.fingerprint is not None for p in posts)


async def test_poll_history_older_than_its_days_is_pruned(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        account = await add_account(sessionmaker, office, clock, server.feed_url("rss"))
        for _ in range(4):
            await tick(sessionmaker, clock, settings, http, parser)
            clock.advance(days=1)
    short = settings.model_copy(update={"poll_history_days": 2, "poll_history": 50})
    assert await prune_poll_history(sessionmaker=sessionmaker, settings=short, clock=clock) == 2
    async with sessionmaker() as session:
        left = list(await session.exec(select(Poll.started_at).order_by(col(Poll.id))))
    assert len(left) == 2 and all(clock.now() - t <= clock.now() - left[0] for t in left)
    assert await count(sessionmaker, Poll, Poll.account_id == account) == 2


# --- posts a stopped process stored but never checked (models.postchecks) ---


class Killed(BaseException):
    """The process dying under the hooks (not an error a hook's guard would catch)."""


class DiesInHooks:
    async def __call__(self, session, *, account_id: int, stored, now: datetime) -> None:
        raise Killed


class Records:
    def __init__(self) -> None:
        self.seen: list[tuple[int, str, str]] = []

    async def __call__(
        self, session, *, account_id: int, stored: Sequence[StoredItem], now: datetime
    ) -> None:
        self.seen.extend((account_id, s.item.title, s.item.body_text) for s in stored)


async def unchecked(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int((await session.exec(select(func.count()).select_from(UncheckedPost))).one())


async def test_a_tick_that_runs_its_hooks_leaves_nothing_unchecked(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    hook = Records()
    async with FeedServer() as server:
        account = await add_account(sessionmaker, office, clock, server.feed_url("gbk"))
        await tick(sessionmaker, clock, settings, http, parser, hooks=(hook,))
    assert [a for a, _t, _b in hook.seen] == [account, account]
    assert await unchecked(sessionmaker) == 0


async def test_posts_left_unchecked_by_a_killed_tick_are_checked_by_a_later_one(
    sessionmaker, clock, settings, http, parser, office
) -> None:
    async with FeedServer() as server:
        account = await add_account(sessionmaker, office, clock, server.feed_url("gbk"))
        with pytest.raises(Killed):
            await tick(sessionmaker, clock, settings, http, parser, hooks=(DiesInHooks(),))
        assert await unchecked(sessionmaker) == 2, "the posts are stored, their checks are not"

        hook = Records()
        await tick(sessionmaker, clock, settings, http, parser, hooks=(hook,))
        assert hook.seen == [], "too recent: a tick still running may be checking them"

        clock.advance(RECHECK_AFTER + timedelta(minutes=1))
        await tick(sessionmaker, clock, settings, http, parser, hooks=(hook,))
    assert sorted(hook.seen) == sorted(
        [
            (account, "关于开展防汛检查的通知", "各街道：请于5月10日前完成自查。"),
            (account, "区政府召开常务会议", "会议研究了民生实事项目。\n详见附件。"),
        ]
    ), "the hooks see the stored title and text"
    assert await unchecked(sessionmaker) == 0

    clock.advance(RECHECK_AFTER * 2)
    again = Records()
    await tick(sessionmaker, clock, settings, http, parser, hooks=(again,))
    assert again.seen == [], "checked once"
