"""When to poll a feed next: the account's own rhythm, the server's hints, and backoff on failure.

Follows Miniflux's entry-frequency scheduler: an account that posts ten times a week is polled
about every 17 hours / 10, one that posted nothing last week at the maximum interval. Server
hints (RSS ``<ttl>``, Cache-Control max-age, Expires, Retry-After) are a floor, never a
ceiling. Hints and backoff are capped at 24 h because a feed read less than daily cannot
support the 7-day dormancy warning. Also the pure parsers for those HTTP headers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """Scheduler settings; the defaults are the product's."""

    min_interval: timedelta = timedelta(minutes=15)
    max_interval: timedelta = timedelta(hours=6)
    max_backoff: timedelta = timedelta(hours=24)
    max_hint: timedelta = timedelta(hours=24)
    jitter_ratio: float = 0.1

    def __post_init__(self) -> None:
        if not timedelta(0) < self.min_interval <= self.max_interval <= self.max_backoff:
            raise ValueError("need 0 < min_interval <= max_interval <= max_backoff")
        if not 0 <= self.jitter_ratio < 1:
            raise ValueError("jitter_ratio must be in [0, 1)")


@dataclass(frozen=True, slots=True)
class ServerHints:
    """Seconds the server asked us to wait, each ``None`` when it said nothing."""

    ttl_seconds: int | None = None
    cache_seconds: int | None = None
    retry_after_seconds: int | None = None

    def floor(self) -> timedelta:
        values = [v for v in (self.ttl_seconds, self.cache_seconds, self.retry_after_seconds) if v]
        return timedelta(seconds=max(values, default=0))


def next_poll_delay(
    *,
    posts_last_week: int,
    consecutive_failures: int = 0,
    hints: ServerHints | None = None,
    jitter: float = 0.5,
    schedule: PollSchedule | None = None,
) -> timedelta:
    """Delay until the next poll.

    ``jitter`` is a number in [0, 1) from the caller's random source (0.5 means none); it
    stretches or shrinks the delay by up to ``schedule.jitter_ratio`` so polls spread out.
    """
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    schedule = schedule or PollSchedule()
    if posts_last_week > 0:
        delay = _clamp(WEEK / posts_last_week, schedule.min_interval, schedule.max_interval)
    else:
        delay = schedule.max_interval
    if consecutive_failures > 0:
        backoff = schedule.min_interval * 2 ** min(consecutive_failures, 32)
        delay = min(max(delay, backoff), schedule.max_backoff)
    delay *= 1 + schedule.jitter_ratio * (2 * jitter - 1)
    floor = min((hints or ServerHints()).floor(), schedule.max_hint)
    return max(delay, floor, schedule.min_interval)


def _clamp(value: timedelta, low: timedelta, high: timedelta) -> timedelta:
    return max(low, min(value, high))


def parse_retry_after(value: str | None, *, now: datetime) -> int | None:
    """Retry-After as whole seconds from ``now``: delta-seconds or an HTTP-date; ``None`` if bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0, int((when - now).total_seconds()))


_MAX_AGE = re.compile(r"(?:^|[,\s])(s-maxage|max-age)\s*=\s*\"?(\d+)\"?", re.IGNORECASE)


def parse_cache_control_max_age(value: str | None) -> int | None:
    """max-age (or s-maxage) in seconds; ``None`` when absent or when ``no-cache``/``no-store``."""
    if not value:
        return None
    lowered = value.lower()
    if "no-cache" in lowered or "no-store" in lowered:
        return None
    found = {name.lower(): int(seconds) for name, seconds in _MAX_AGE.findall(value)}
    return found.get("s-maxage", found.get("max-age"))


def parse_expires(value: str | None, *, now: datetime) -> int | None:
    """Seconds until the Expires date; ``None`` if missing or invalid, 0 if already past."""
    when = parse_http_date(value) if value else None
    if when is None:
        return None
    return max(0, int((when - now).total_seconds()))


def cache_hint_seconds(
    *, cache_control: str | None, expires: str | None, now: datetime
) -> int | None:
    """Freshness lifetime the server declared: max-age wins over Expires (RFC 9111)."""
    max_age = parse_cache_control_max_age(cache_control)
    if max_age is not None:
        return max_age
    if cache_control and re.search(r"no-cache|no-store", cache_control, re.IGNORECASE):
        return None
    return parse_expires(expires, now=now)


def parse_http_date(value: str) -> datetime | None:
    """An HTTP-date (RFC 9110: IMF-fixdate, RFC 850 or asctime) as an aware UTC datetime."""
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
