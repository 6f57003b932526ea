"""Next-poll scheduling and the HTTP header parsers behind its hints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance.polling import (
    PollSchedule,
    ServerHints,
    cache_hint_seconds,
    next_poll_delay,
    parse_cache_control_max_age,
    parse_expires,
    parse_http_date,
    parse_retry_after,
)

NOW = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
NO_JITTER = 0.5
MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.mark.parametrize(
    ("posts", "expected"),
    [
        (0, 6 * HOUR),  # silent last week: the maximum
        (1, 6 * HOUR),  # one week / 1, clamped to the maximum
        (28, 6 * HOUR),
        (56, 3 * HOUR),
        (168, HOUR),
        (10_000, 15 * MIN),  # clamped to the minimum
    ],
)
def test_interval_follows_posting_rhythm(posts: int, expected: timedelta) -> None:
    assert next_poll_delay(posts_last_week=posts, jitter=NO_JITTER) == expected


def test_server_hints_are_a_floor() -> None:
    busy = {"posts_last_week": 10_000, "jitter": NO_JITTER}
    assert next_poll_delay(**busy, hints=ServerHints(ttl_seconds=3600)) == HOUR
    assert next_poll_delay(**busy, hints=ServerHints(cache_seconds=1800)) == 30 * MIN
    assert next_poll_delay(**busy, hints=ServerHints(retry_after_seconds=7200)) == 2 * HOUR
    assert next_poll_delay(**busy, hints=ServerHints(ttl_seconds=60)) == 15 * MIN


def test_hints_are_capped_at_a_day() -> None:
    hints = ServerHints(retry_after_seconds=30 * 24 * 3600)
    assert next_poll_delay(posts_last_week=5, hints=hints, jitter=NO_JITTER) == 24 * HOUR


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(1, 30 * MIN), (2, HOUR), (3, 2 * HOUR), (5, 8 * HOUR), (6, 16 * HOUR), (7, 24 * HOUR)],
)
def test_failures_back_off_exponentially(failures: int, expected: timedelta) -> None:
    delay = next_poll_delay(posts_last_week=10_000, consecutive_failures=failures, jitter=NO_JITTER)
    assert delay == expected


def test_backoff_never_shortens_the_normal_interval() -> None:
    assert next_poll_delay(posts_last_week=0, consecutive_failures=1, jitter=NO_JITTER) == 6 * HOUR
    huge = next_poll_delay(posts_last_week=0, consecutive_failures=1000, jitter=NO_JITTER)
    assert huge == 24 * HOUR


def test_jitter_spreads_polls_within_ratio() -> None:
    low = next_poll_delay(posts_last_week=56, jitter=0.0)
    high = next_poll_delay(posts_last_week=56, jitter=0.999999)
    assert low == 3 * HOUR * 0.9
    assert 3 * HOUR * 1.09 < high <= 3 * HOUR * 1.1


@given(
    posts=st.integers(0, 100_000),
    failures=st.integers(0, 100),
    jitter=st.floats(0, 1, exclude_max=True),
    hint=st.one_of(st.none(), st.integers(0, 10**9)),
)
def test_delay_is_always_within_bounds(posts, failures, jitter, hint) -> None:
    schedule = PollSchedule()
    delay = next_poll_delay(
        posts_last_week=posts,
        consecutive_failures=failures,
        hints=ServerHints(retry_after_seconds=hint),
        jitter=jitter,
    )
    assert schedule.min_interval <= delay <= schedule.max_backoff * (1 + schedule.jitter_ratio)
    if hint:
        assert delay >= min(timedelta(seconds=hint), schedule.max_hint)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        next_poll_delay(posts_last_week=1, jitter=1.0)
    with pytest.raises(ValueError):
        PollSchedule(min_interval=timedelta(hours=7))


def test_retry_after() -> None:
    assert parse_retry_after("120", now=NOW) == 120
    assert parse_retry_after(" 0 ", now=NOW) == 0
    assert parse_retry_after("Mon, 06 May 2024 12:10:00 GMT", now=NOW) == 600
    assert parse_retry_after("Mon, 06 May 2024 11:00:00 GMT", now=NOW) == 0
    assert parse_retry_after("-5", now=NOW) is None
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


def test_cache_control() -> None:
    assert parse_cache_control_max_age("public, max-age=600") == 600
    assert parse_cache_control_max_age('max-age="60", s-maxage=900') == 900
    assert parse_cache_control_max_age("no-cache, max-age=600") is None
    assert parse_cache_control_max_age("private") is None
    assert parse_cache_control_max_age(None) is None


def test_expires_and_combined_hint() -> None:
    assert parse_expires("Mon, 06 May 2024 13:00:00 GMT", now=NOW) == 3600
    assert parse_expires("0", now=NOW) is None
    assert parse_expires("Mon, 06 May 2024 11:00:00 GMT", now=NOW) == 0
    expires = "Mon, 06 May 2024 13:00:00 GMT"
    assert cache_hint_seconds(cache_control="max-age=60", expires=expires, now=NOW) == 60
    assert cache_hint_seconds(cache_control=None, expires=expires, now=NOW) == 3600
    assert cache_hint_seconds(cache_control="no-store", expires=expires, now=NOW) is None


def test_http_date_formats() -> None:
    expected = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == expected
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == expected
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == expected
    assert parse_http_date("garbage") is None
