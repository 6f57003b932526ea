"""fetch_feed and probe_feed against the local feed server (127.0.0.1 only)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import aiohttp
import pytest
from yarl import URL

from feeds.fetch import fetch_feed, probe_feed
from feeds.netguard import GuardPolicy, guarded_connector
from feeds.outcome import OUTCOME_MESSAGES_ZH, PollOutcome
from tests.fakes import FakeItem, FakeResolver, FeedServer

UA = "gov-media-bot-tests/1.0"
Outcome = PollOutcome


async def fetch(session: aiohttp.ClientSession, url: str, policy: GuardPolicy, **kw: object):
    kw.setdefault("timeout", 5.0)
    return await fetch_feed(session, url, policy=policy, user_agent=UA, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["rss", "atom", "rdf", "json", "gbk", "gb18030"])
async def test_ok_returns_body_and_parser_headers(feed_server, session, policy, name) -> None:
    result = await fetch(session, feed_server.feed_url(name), policy)
    assert result.outcome is Outcome.OK
    assert result.status == 200 and result.body
    assert result.etag and result.last_modified
    assert "content-type" in result.headers
    assert result.headers["content-location"] == feed_server.feed_url(name)
    assert result.elapsed_seconds >= 0 and result.error is None
    sent = feed_server.requests_to(f"/feeds/{name}")[-1]
    assert sent.headers["User-Agent"] == UA


async def test_conditional_requests_and_new_posts(feed_server, session, policy) -> None:
    url = feed_server.set_feed(
        "acct", [FakeItem("旧文", guid="1", published=datetime(2024, 5, 1, tzinfo=UTC))]
    )
    first = await fetch(session, url, policy)
    by_etag = await fetch(session, url, policy, etag=first.etag)
    by_date = await fetch(session, url, policy, last_modified=first.last_modified)
    assert (by_etag.outcome, by_date.outcome) == (Outcome.NOT_MODIFIED, Outcome.NOT_MODIFIED)
    assert by_etag.body is None and by_etag.etag == first.etag
    sent = feed_server.requests_to("/feeds/acct")
    assert sent[1].headers["If-None-Match"] == first.etag
    assert sent[2].headers["If-Modified-Since"] == first.last_modified

    feed_server.add_items(
        "acct", FakeItem("新文", guid="2", published=datetime(2024, 5, 9, tzinfo=UTC))
    )
    again = await fetch(session, url, policy, etag=first.etag, last_modified=first.last_modified)
    assert again.outcome is Outcome.OK and again.etag != first.etag
    assert "新文".encode() in again.body


async def test_empty_200_counts_as_not_modified(feed_server, session, policy) -> None:
    result = await fetch(session, feed_server.url("/empty"), policy)
    assert result.outcome is Outcome.NOT_MODIFIED and result.status == 200


async def test_slow_server_times_out(feed_server, session, policy) -> None:
    result = await fetch(session, feed_server.url("/slow?delay=5"), policy, timeout=0.3)
    assert result.outcome is Outcome.TIMEOUT
    assert result.elapsed_seconds < 2


async def test_dripping_body_times_out_on_total(feed_server, session, policy) -> None:
    timeout = aiohttp.ClientTimeout(total=0.5, sock_read=5)
    result = await fetch(session, feed_server.url("/drip?interval=0.05"), policy, timeout=timeout)
    assert result.outcome is Outcome.TIMEOUT
    assert result.elapsed_seconds < 2


@pytest.mark.parametrize("path", ["/huge?size=3000000", "/huge?size=3000000&declared=1", "/bomb"])
async def test_oversized_bodies_are_cut_off(feed_server, session, policy, path) -> None:
    result = await fetch(session, feed_server.url(path), policy, max_bytes=1_000_000)
    assert result.outcome is Outcome.TOO_LARGE
    assert result.body is None


async def test_gzip_bomb_is_small_on_the_wire(feed_server, session, policy) -> None:
    """The bomb is far smaller than the cap compressed: only decompressed counting catches it."""
    feed_server.bomb_size = 32 * 1024 * 1024
    result = await fetch(session, feed_server.url("/bomb"), policy, max_bytes=2_000_000)
    assert result.outcome is Outcome.TOO_LARGE
    assert feed_server._bomb is not None and len(feed_server._bomb) < 200_000


async def test_redirects_are_followed_and_counted(feed_server, session, policy) -> None:
    result = await fetch(session, feed_server.url("/chain/3"), policy)
    assert result.outcome is Outcome.OK
    assert result.redirects == 3
    assert result.final_url == feed_server.url("/chain/0")
    assert result.url == feed_server.url("/chain/3")


@pytest.mark.parametrize("path", ["/chain/9", "/loop"])
async def test_too_many_redirects(feed_server, session, policy, path) -> None:
    result = await fetch(session, feed_server.url(path), policy, max_redirects=5)
    assert result.outcome is Outcome.MISCONFIGURED
    assert result.redirects == 5


def _tracing() -> tuple[aiohttp.TraceConfig, list[str]]:
    started: list[str] = []
    trace = aiohttp.TraceConfig()

    async def on_start(
        _s: object, _c: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        started.append(str(params.url))

    trace.on_request_start.append(on_start)
    return trace, started


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/",
        "http://10.0.0.1/feed",
        "http://[::ffff:192.168.1.1]/feed",
    ],
)
async def test_redirect_to_forbidden_address_never_connects(feed_server, policy, target) -> None:
    trace, started = _tracing()
    async with aiohttp.ClientSession(
        connector=guarded_connector(policy), trust_env=False, trace_configs=[trace]
    ) as session:
        url = feed_server.url("/redirect?to=" + target)
        result = await fetch(session, url, policy)
    assert result.outcome is Outcome.FORBIDDEN_ADDRESS
    assert URL(result.final_url) == URL(target)
    # the forbidden hop was refused before any request to it began
    assert [URL(u).path for u in started] == ["/redirect"]


@pytest.fixture
async def named_session() -> tuple[aiohttp.ClientSession, GuardPolicy, FakeResolver]:
    """Only the name ``feeds.test`` is allowed; it maps to the loopback feed server. Loopback
    itself stays forbidden, so loopback URLs and redirects exercise the real guard."""
    policy = GuardPolicy(allowed_hosts=frozenset({"feeds.test"}))
    resolver = FakeResolver(
        {"feeds.test": ["127.0.0.1"], "localhost": ["127.0.0.1"], "rebind.test": ["10.0.0.1"]}
    )
    session = aiohttp.ClientSession(
        connector=guarded_connector(policy, inner_resolver=resolver), trust_env=False
    )
    yield session, policy, resolver
    await session.close()


async def test_allowed_hostname_reaches_server(feed_server, named_session) -> None:
    session, policy, _ = named_session
    result = await fetch(session, f"http://feeds.test:{feed_server.port}/feeds/rss", policy)
    assert result.outcome is Outcome.OK


async def test_loopback_feed_url_is_refused_without_request(feed_server, named_session) -> None:
    session, policy, _ = named_session
    result = await fetch(session, feed_server.feed_url("rss"), policy)
    assert result.outcome is Outcome.FORBIDDEN_ADDRESS
    assert feed_server.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "rebind.test", "[::1]"])
async def test_redirect_to_loopback_is_refused(feed_server, named_session, host) -> None:
    session, policy, resolver = named_session
    target = f"http://{host}:{feed_server.port}/feeds/rss"
    url = f"http://feeds.test:{feed_server.port}/redirect?to={target}"
    result = await fetch(session, url, policy)
    assert result.outcome is Outcome.FORBIDDEN_ADDRESS, result
    assert [r.path for r in feed_server.requests] == ["/redirect"]
    if not host.startswith(("[", "1")):
        assert host in resolver.lookups  # refused at resolution, before connecting


@pytest.mark.parametrize(
    ("path", "outcome", "retry_after"),
    [
        ("/status/429?retry_after=120", Outcome.RATE_LIMITED, 120),
        ("/status/429", Outcome.RATE_LIMITED, None),
        ("/status/503?retry_after=30", Outcome.RATE_LIMITED, 30),
        ("/status/503", Outcome.SERVER_ERROR, None),
        ("/status/500", Outcome.SERVER_ERROR, None),
        ("/status/502", Outcome.SERVER_ERROR, None),
        ("/status/404", Outcome.MISCONFIGURED, None),
        ("/status/410", Outcome.MISCONFIGURED, None),
        ("/status/401", Outcome.MISCONFIGURED, None),
        ("/status/403", Outcome.BLOCKED, None),
        ("/captcha", Outcome.BLOCKED, None),
        ("/waf", Outcome.BLOCKED, None),
        ("/rsshub-cookie", Outcome.BLOCKED, None),
        ("/rsshub-captcha", Outcome.BLOCKED, None),
        ("/rsshub-not-found", Outcome.MISCONFIGURED, None),
        ("/no/such/route", Outcome.MISCONFIGURED, None),
        ("/rsshub-empty", Outcome.NO_POSTS, None),
        ("/toutiao-empty", Outcome.NO_POSTS, None),
    ],
)
async def test_status_and_upstream_pages(feed_server, session, policy, path, outcome, retry_after):
    result = await fetch(session, feed_server.url(path), policy)
    assert result.outcome is outcome
    assert result.retry_after_seconds == retry_after
    assert result.body is None


async def test_retry_after_http_date_counts_from_server_date(feed_server, session, policy) -> None:
    server_now = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
    later = server_now + timedelta(minutes=10)
    feed_server.set_response(
        "/busy",
        status=503,
        headers={
            "Date": format_datetime(server_now, usegmt=True),
            "Retry-After": format_datetime(later, usegmt=True),
        },
    )
    result = await fetch(session, feed_server.url("/busy"), policy)
    assert result.outcome is Outcome.RATE_LIMITED and result.retry_after_seconds == 600


async def test_cache_hints(feed_server, session, policy) -> None:
    feed_server.feeds["rss"].headers = {"Cache-Control": "public, max-age=1800"}
    result = await fetch(session, feed_server.feed_url("rss"), policy)
    assert result.cache_seconds == 1800
    now = datetime.now(UTC).replace(microsecond=0)
    feed_server.feeds["atom"].headers = {
        "Date": format_datetime(now, usegmt=True),
        "Expires": format_datetime(now + timedelta(hours=1), usegmt=True),
    }
    result = await fetch(session, feed_server.feed_url("atom"), policy)
    assert result.cache_seconds == 3600


async def test_html_page_without_signature_is_left_to_the_parser(feed_server, session, policy):
    result = await fetch(session, feed_server.url("/html"), policy)
    assert result.outcome is Outcome.OK and result.body


async def test_feed_quoting_signature_phrases_is_still_a_feed(feed_server, session, policy):
    url = feed_server.set_feed("quote", [FakeItem("该栏目暂未发表作品？验证码 captcha")])
    assert (await fetch(session, url, policy)).outcome is Outcome.OK


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/feed", "http://u:p@127.0.0.1/feed", "not a url", "http:///x"]
)
async def test_bad_urls(session, policy, url) -> None:
    result = await fetch(session, url, policy)
    assert result.outcome is Outcome.BAD_URL and result.error


async def test_connection_refused_is_network_and_hides_query(session, policy) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await fetch(session, f"http://127.0.0.1:{port}/feed?key=SECRET", policy)
    assert result.outcome is Outcome.NETWORK
    assert result.error and "SECRET" not in result.error


async def test_unguarded_session_is_refused(policy) -> None:
    async with aiohttp.ClientSession() as plain:
        with pytest.raises(ValueError, match="guarded_connector"):
            await fetch(plain, "http://127.0.0.1/", policy)


def test_every_outcome_has_a_chinese_message() -> None:
    assert set(OUTCOME_MESSAGES_ZH) == set(PollOutcome)


@pytest.mark.parametrize(
    ("path", "outcome", "message"),
    [
        ("/feeds/atom", Outcome.OK, "订阅源可用"),
        ("/html", Outcome.NOT_A_FEED, "不是有效的订阅源（RSS/Atom/JSON Feed）"),
        ("/empty", Outcome.NOT_A_FEED, "不是有效的订阅源（RSS/Atom/JSON Feed）"),
        ("/status/404", Outcome.MISCONFIGURED, "HTTP 404：地址不存在或订阅源配置有误"),
        ("/rsshub-empty", Outcome.NO_POSTS, "上游显示该账号暂未发布内容"),
    ],
)
async def test_probe(feed_server: FeedServer, session, policy, path, outcome, message) -> None:
    probe = await probe_feed(
        session, feed_server.url(path), policy=policy, timeout=5, user_agent=UA
    )
    assert (probe.outcome, probe.message) == (outcome, message)
    if outcome is Outcome.OK:
        assert probe.title == "示例订阅源（atom）" and probe.item_count == 2 and probe.usable


async def test_probe_unreachable(session, policy) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    probe = await probe_feed(
        session, f"http://127.0.0.1:{port}/", policy=policy, timeout=5, user_agent=UA
    )
    assert probe.outcome is Outcome.NETWORK and probe.message == "无法连接"
