"""Fetch one feed with aiohttp and say, without raising, how it went.

Why not let aiohttp or feedparser do it all: feedparser's own fetching blocks, has no timeout
and no size cap; aiohttp has no body limit and follows redirects without asking the SSRF guard.
So redirects are followed here hop by hop (each hop's URL re-checked), the body is streamed
counting decompressed bytes (aiohttp inflates incrementally, so a gzip bomb is cut off after
``max_bytes`` of output, not after it has filled memory), and every failure becomes a
:class:`~feeds.outcome.PollOutcome`. Upstream "no posts" and anti-crawl pages are recognised
here too (see :mod:`feeds.upstream`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from yarl import URL

from feeds.feedparse import parse_feed
from feeds.netguard import (
    ForbiddenAddressError,
    GuardPolicy,
    URLRefused,
    check_url,
    guarded_connector,
)
from feeds.netguard import session_is_guarded as _session_is_guarded
from feeds.outcome import PollOutcome, outcome_message_zh
from feeds.upstream import SNIFF_BYTES, classify_page, looks_like_html_page
from governance.polling import cache_hint_seconds, parse_http_date, parse_retry_after

__all__ = ["FetchResult", "ProbeResult", "fetch_feed", "make_feed_session", "probe_feed"]

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
_PARSER_HEADERS = ("content-type", "content-location", "content-language")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024
_MAX_ERROR_TEXT = 300
_MAX_URL_KEPT = 4096


@dataclass(slots=True)
class FetchResult:
    """Everything one poll learned; ``body`` is set only for ``ok``.

    ``ok`` means feed-like bytes arrived; whether they are a feed is :func:`parse_feed`'s
    verdict, so the caller records ``not_a_feed`` when ``ParsedFeed.is_feed`` is false.
    ``headers`` holds only what feedparser needs (content-type, content-location,
    content-language); content-location defaults to the final URL so relative links resolve.
    """

    outcome: PollOutcome
    url: str
    final_url: str
    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    retry_after_seconds: int | None = None
    cache_seconds: int | None = None
    elapsed_seconds: float = 0.0
    redirects: int = 0
    error: str | None = None


@dataclass(slots=True)
class ProbeResult:
    """What a registration form shows after trying a feed URL once."""

    outcome: PollOutcome
    message: str
    status: int | None = None
    final_url: str | None = None
    title: str | None = None
    item_count: int = 0
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.outcome in (PollOutcome.OK, PollOutcome.NO_POSTS)


async def fetch_feed(
    session: aiohttp.ClientSession,
    url: str,
    *,
    policy: GuardPolicy,
    timeout: aiohttp.ClientTimeout | float,  # noqa: ASYNC109 - per-hop aiohttp timeout too
    user_agent: str,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 5_000_000,
    max_redirects: int = 5,
    clock: Callable[[], datetime] | None = None,
) -> FetchResult:
    """GET ``url`` as a feed poll; network trouble becomes an outcome, never an exception.

    ``session`` must resolve through :class:`~feeds.netguard.GuardedResolver` (build it on
    :func:`~feeds.netguard.guarded_connector`); otherwise this raises ``ValueError``, since an
    unguarded session would silently lose SSRF protection. ``timeout`` bounds the whole fetch
    including redirects and the body. ``clock`` serves Retry-After/Expires dates when the
    response has no Date header.
    """
    if not _session_is_guarded(session):
        raise ValueError("fetch_feed needs a session built on feeds.netguard.guarded_connector()")
    client_timeout = (
        timeout if isinstance(timeout, aiohttp.ClientTimeout) else _timeout_from(timeout)
    )
    fetch = _Fetch(
        session=session,
        url=url,
        policy=policy,
        timeout=client_timeout,
        user_agent=user_agent,
        etag=etag,
        last_modified=last_modified,
        max_bytes=max_bytes,
        max_redirects=max_redirects,
        clock=clock or _utcnow,
    )
    started = time.monotonic()
    try:
        async with asyncio.timeout(client_timeout.total):
            result = await fetch.run()
    except TimeoutError:
        result = fetch.result(PollOutcome.TIMEOUT, error="timed out")
    result.elapsed_seconds = round(time.monotonic() - started, 4)
    return result


def make_feed_session(
    policy: GuardPolicy, *, limit: int = 50, limit_per_host: int = 2
) -> aiohttp.ClientSession:
    """The poller's one shared session: guarded resolver, no proxies from the environment, no
    cookie jar (cookies from one account's feed must not ride along to the next). Call it
    inside the running loop and close it on shutdown."""
    return aiohttp.ClientSession(
        connector=guarded_connector(policy, limit=limit, limit_per_host=limit_per_host),
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
    )


def _timeout_from(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds, connect=min(seconds, 10.0))


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Fetch:
    """State of one fetch across its redirect hops."""

    session: aiohttp.ClientSession
    url: str
    policy: GuardPolicy
    timeout: aiohttp.ClientTimeout
    user_agent: str
    etag: str | None
    last_modified: str | None
    max_bytes: int
    max_redirects: int
    clock: Callable[[], datetime]
    current: str = ""
    redirects: int = 0

    def result(self, outcome: PollOutcome, **values: object) -> FetchResult:
        return FetchResult(
            outcome=outcome,
            url=self.url,
            final_url=self.current or self.url,
            redirects=self.redirects,
            **values,  # type: ignore[arg-type]
        )

    async def run(self) -> FetchResult:
        target: str | URL = self.url
        while True:
            self.current = str(target)[:_MAX_URL_KEPT]
            try:
                hop = check_url(target, policy=self.policy)
            except URLRefused as refused:
                bad = refused.kind == "bad_url"
                outcome = PollOutcome.BAD_URL if bad else PollOutcome.FORBIDDEN_ADDRESS
                return self.result(outcome, error=refused.message)
            self.current = str(hop)
            try:
                async with self.session.get(
                    hop,
                    headers=self._headers(),
                    allow_redirects=False,
                    timeout=self.timeout,
                ) as resp:
                    location = resp.headers.get("Location") if resp.status in _REDIRECTS else None
                    if location is None:
                        return await self._finish(resp)
            except aiohttp.ClientError as exc:
                return self._failed(exc)
            except TimeoutError:  # aiohttp's own total/sock_read timers
                return self.result(PollOutcome.TIMEOUT, error="timed out")
            except OSError as exc:
                return self.result(PollOutcome.NETWORK, error=_short(type(exc).__name__, exc))
            if self.redirects >= self.max_redirects:
                return self.result(
                    PollOutcome.MISCONFIGURED,
                    status=resp.status,
                    error=f"more than {self.max_redirects} redirects",
                )
            self.redirects += 1
            try:
                target = hop.join(URL(location))
            except ValueError:
                return self.result(PollOutcome.BAD_URL, error="malformed redirect Location")

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": self.user_agent, "Accept": FEED_ACCEPT}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    async def _finish(self, resp: aiohttp.ClientResponse) -> FetchResult:
        status = resp.status
        headers = resp.headers
        now = self._server_now(headers)
        common: dict[str, object] = {
            "status": status,
            "etag": headers.get("ETag") or self.etag,
            "last_modified": headers.get("Last-Modified") or self.last_modified,
            "cache_seconds": cache_hint_seconds(
                cache_control=headers.get("Cache-Control"), expires=headers.get("Expires"), now=now
            ),
        }
        if status == 304:
            return self.result(PollOutcome.NOT_MODIFIED, **common)
        if 200 <= status < 300:
            return await self._read_success(resp, common)
        retry_after = parse_retry_after(headers.get("Retry-After"), now=now)
        page = await _read_prefix(resp, SNIFF_BYTES)
        outcome = _classify_status(status, retry_after=retry_after)
        announced = classify_page(page)
        if announced is not None and outcome is not PollOutcome.RATE_LIMITED:
            outcome = announced
        return self.result(
            outcome, retry_after_seconds=retry_after, error=f"HTTP {status}", **common
        )

    async def _read_success(
        self, resp: aiohttp.ClientResponse, common: dict[str, object]
    ) -> FetchResult:
        length = resp.content_length
        if length is not None and length > self.max_bytes:
            return self.result(
                PollOutcome.TOO_LARGE, error=f"Content-Length {length} > {self.max_bytes}", **common
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > self.max_bytes:
                return self.result(
                    PollOutcome.TOO_LARGE, error=f"body exceeds {self.max_bytes} bytes", **common
                )
            chunks.append(chunk)
        body = b"".join(chunks)
        if not body.strip():
            return self.result(PollOutcome.NOT_MODIFIED, error="empty body", **common)
        content_type = resp.headers.get("Content-Type", "")
        if looks_like_html_page(body, content_type):
            announced = classify_page(body)
            if announced is not None:
                return self.result(announced, error="upstream page instead of feed", **common)
        parser_headers = {
            name: resp.headers[name] for name in _PARSER_HEADERS if name in resp.headers
        }
        parser_headers.setdefault("content-location", self.current)
        return self.result(PollOutcome.OK, body=body, headers=parser_headers, **common)

    def _server_now(self, headers: Mapping[str, str]) -> datetime:
        """Relative dates count from the server's own Date header, immune to clock skew."""
        date = headers.get("Date")
        return (parse_http_date(date) if date else None) or self.clock()

    def _failed(self, exc: aiohttp.ClientError) -> FetchResult:
        if isinstance(exc, aiohttp.ClientConnectorDNSError) and isinstance(
            exc.os_error, ForbiddenAddressError
        ):
            return self.result(
                PollOutcome.FORBIDDEN_ADDRESS, error=f"address refused: {exc.os_error.reason}"
            )
        if isinstance(exc, aiohttp.InvalidURL):
            return self.result(PollOutcome.BAD_URL, error="invalid URL")
        if isinstance(exc, aiohttp.ServerTimeoutError | aiohttp.ConnectionTimeoutError):
            return self.result(PollOutcome.TIMEOUT, error=_short("timeout", exc))
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return self.result(PollOutcome.NETWORK, error="DNS lookup failed")
        if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
            return self.result(PollOutcome.NETWORK, error="TLS error")
        if isinstance(exc, aiohttp.ClientConnectorError):
            return self.result(PollOutcome.NETWORK, error=_short("connect failed", exc.os_error))
        return self.result(PollOutcome.NETWORK, error=_short(type(exc).__name__, exc))


def _classify_status(status: int, *, retry_after: int | None) -> PollOutcome:
    if status == 429 or (status == 503 and retry_after is not None):
        return PollOutcome.RATE_LIMITED
    if status == 403:
        return PollOutcome.BLOCKED
    if 400 <= status < 500:
        return PollOutcome.MISCONFIGURED
    if status >= 500:
        return PollOutcome.SERVER_ERROR
    return PollOutcome.MISCONFIGURED  # 1xx/3xx without Location: nothing a feed reader can use


async def _read_prefix(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """Up to ``limit`` bytes of an error body, for signatures; errors reading it are ignored."""
    buffer = bytearray()
    try:
        while len(buffer) < limit:
            chunk = await resp.content.read(limit - len(buffer))
            if not chunk:
                break
            buffer += chunk
    except (aiohttp.ClientError, ValueError):
        pass
    return bytes(buffer)


def _short(label: str, exc: BaseException | None) -> str:
    """A short error text without URLs (query strings may carry RSSHub access keys)."""
    detail = ""
    if isinstance(exc, OSError) and exc.strerror:
        detail = exc.strerror
    elif exc is not None:
        detail = type(exc).__name__
    text = f"{label}: {detail}" if detail and detail != label else label
    return text[:_MAX_ERROR_TEXT]


async def probe_feed(
    session: aiohttp.ClientSession,
    url: str,
    *,
    policy: GuardPolicy,
    timeout: aiohttp.ClientTimeout | float,  # noqa: ASYNC109 - per-hop aiohttp timeout too
    user_agent: str,
    max_bytes: int = 5_000_000,
    clock: Callable[[], datetime] | None = None,
) -> ProbeResult:
    """Fetch and parse ``url`` once, for a registration form: can this URL serve as a feed?"""
    now = (clock or _utcnow)()
    fetched = await fetch_feed(
        session,
        url,
        policy=policy,
        timeout=timeout,
        user_agent=user_agent,
        max_bytes=max_bytes,
        clock=clock,
    )
    outcome = fetched.outcome
    if outcome is PollOutcome.NOT_MODIFIED:  # no conditional headers were sent: an empty body
        outcome = PollOutcome.NOT_A_FEED
    title: str | None = None
    count = 0
    if outcome is PollOutcome.OK and fetched.body is not None:
        parsed = await asyncio.to_thread(parse_feed, fetched.body, fetched.headers, first_seen=now)
        if parsed.is_feed:
            title, count = parsed.title, len(parsed.items)
        else:
            outcome = PollOutcome.NOT_A_FEED
    return ProbeResult(
        outcome=outcome,
        message=outcome_message_zh(outcome, status=fetched.status),
        status=fetched.status,
        final_url=fetched.final_url,
        title=title,
        item_count=count,
        error=fetched.error,
    )
