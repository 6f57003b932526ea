"""The one clock: production reads the system time, tests move a manual one.

All times are aware datetimes in UTC; the configured zone is applied only when showing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that can tell the current UTC time, and elapsed seconds for pacing."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (only differences mean anything)."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that only moves when told to; for tests and simulations."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._elapsed = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        """Seconds the clock has moved forward since it was made (moving back adds none)."""
        return self._elapsed

    def advance(self, delta: timedelta | None = None, /, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; return the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        self._now += step
        self._elapsed += max(step.total_seconds(), 0.0)
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        when = when.astimezone(UTC)
        self._elapsed += max((when - self._now).total_seconds(), 0.0)
        self._now = when


class ScaledClock:
    """Wall time that runs ``speed`` times faster from ``start`` and can jump forward.

    For the demo (``python -m bot demo --speed N``): days pass in minutes so dormancy and
    deadlines can be watched happening. :meth:`monotonic` stays in real seconds, because the
    outbox's pacing is about the real rate of requests.
    """

    def __init__(
        self,
        *,
        start: datetime,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("ScaledClock needs an aware datetime")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._start = start.astimezone(UTC)
        self.speed = speed
        self._real = monotonic
        self._origin = monotonic()
        self._jumped = timedelta()

    def now(self) -> datetime:
        elapsed = (self._real() - self._origin) * self.speed
        return self._start + timedelta(seconds=elapsed) + self._jumped

    def monotonic(self) -> float:
        return self._real()

    def advance(self, delta: timedelta) -> datetime:
        """Jump forward (never back); return the new time."""
        if delta < timedelta():
            raise ValueError("the clock only moves forward")
        self._jumped += delta
        return self.now()
