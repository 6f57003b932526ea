"""Is an account alive? Activity figures and dormancy state from post times alone.

Pure: the caller passes post times, the clock's ``now`` and a summary of the poll history. Two
rules shape everything here. Only item dates count as activity (a feed's ``lastBuildDate`` is
the time RSSHub answered, not the time anyone posted). And a broken feed is a monitoring fault,
never evidence of dormancy: while the feed is broken the state is ``unknown``.
Thresholds default to the national inspection rules (国办秘函〔2019〕19号).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DAY = timedelta(days=1)
WINDOWS_DAYS = (7, 14, 30, 90)


class DormancyState(StrEnum):
    ACTIVE = "active"
    WARNING = "warning"
    DORMANT = "dormant"
    CLOSURE_CANDIDATE = "closure_candidate"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> int:
        """Order for "entered a worse state" comparisons; unknown ranks with active."""
        return _SEVERITY[self]


_SEVERITY = {
    DormancyState.UNKNOWN: 0,
    DormancyState.ACTIVE: 0,
    DormancyState.WARNING: 1,
    DormancyState.DORMANT: 2,
    DormancyState.CLOSURE_CANDIDATE: 3,
}


@dataclass(frozen=True, slots=True)
class ActivityThresholds:
    """All settings; the defaults are the national ones."""

    warning_days: int = 7
    dormant_days: int = 14
    closure_candidate_days: int = 60
    feed_broken_after: timedelta = timedelta(hours=24)
    feed_broken_failures: int = 5
    below_plan_window_days: int = 28
    resurfaced_after_days: int = 30
    plan_min_window_days: int = 7
    """Plan compliance is not judged on less evidence than this (a week of posts)."""

    def __post_init__(self) -> None:
        if not 0 < self.warning_days <= self.dormant_days <= self.closure_candidate_days:
            raise ValueError("need 0 < warning_days <= dormant_days <= closure_candidate_days")
        if self.feed_broken_failures < 1 or self.below_plan_window_days < 1:
            raise ValueError("feed_broken_failures and below_plan_window_days must be positive")


@dataclass(frozen=True, slots=True)
class PollHealth:
    """What the poll history says: last successful poll and failures in a row since."""

    last_success: datetime | None
    consecutive_failures: int = 0


@dataclass(frozen=True, slots=True)
class ActivityReport:
    state: DormancyState
    last_post: datetime | None
    days_since_last_post: int
    """Whole days since the last post, or since registration when there is none."""
    posts_7d: int
    posts_14d: int
    posts_30d: int
    posts_90d: int
    median_gap_days: float | None
    """Median interval between consecutive posts; ``None`` with fewer than two posts."""
    longest_gap_days: float | None
    """Longest silence, between posts or the current one since the last post."""
    posts_per_week: float
    """Over the below-plan window (default 4 weeks), or over the evidence if shorter."""
    planned_per_week: float | None
    below_plan: bool
    feed_broken: bool
    plan_window_days: float = 0.0
    """Days the plan was judged over: the window, cut to what the evidence covers."""
    plan_judged: bool = True
    """False when the evidence covers less than ``plan_min_window_days``: too short to judge."""


def compute_activity(
    post_times: Iterable[datetime],
    *,
    registered_at: datetime,
    planned_per_week: float | None,
    now: datetime,
    poll_health: PollHealth,
    thresholds: ActivityThresholds | None = None,
    history_start: datetime | None = None,
) -> ActivityReport:
    """Activity figures and state of one account as of ``now``.

    ``post_times`` are aware datetimes of the posts that count (see :func:`counts_as_activity`);
    times after ``now`` are ignored. "No posts yet" counts as silence since ``registered_at``.
    While the feed is broken the state is ``unknown`` and ``below_plan`` is not claimed.
    Plan compliance uses what the feed showed: the window reaches back to ``history_start``
    (the oldest item the feed showed, e.g. on the first poll) when that is before registration,
    and below ``plan_min_window_days`` of evidence the plan is not judged at all.
    """
    t = thresholds or ActivityThresholds()
    _require_aware(now, "now")
    _require_aware(registered_at, "registered_at")
    posts = sorted(p for p in post_times if _require_aware(p, "post time") <= now)
    last_post = posts[-1] if posts else None
    silent_since = last_post or registered_at
    silence = max(now - silent_since, timedelta(0))
    days_silent = silence // DAY

    counts = {days: sum(1 for p in posts if now - p < days * DAY) for days in WINDOWS_DAYS}
    gaps = [(b - a) / DAY for a, b in itertools.pairwise(posts)]
    median_gap = statistics.median(gaps) if gaps else None
    longest_gap = max([*gaps, silence / DAY]) if posts else None

    evidence_start = min(registered_at, history_start or registered_at, *posts[:1])
    window = min(t.below_plan_window_days * DAY, max(now - evidence_start, timedelta(0)))
    in_window = sum(1 for p in posts if now - p <= window)
    weeks = window / timedelta(weeks=1)
    posts_per_week = in_window / weeks if weeks > 0 else 0.0
    judged = window >= t.plan_min_window_days * DAY
    broken = is_feed_broken(poll_health, registered_at=registered_at, now=now, thresholds=t)
    below_plan = (
        not broken
        and judged
        and planned_per_week is not None
        and planned_per_week != 0
        and in_window < planned_per_week * weeks
    )
    state = DormancyState.UNKNOWN if broken else dormancy_state(days_silent, thresholds=t)
    return ActivityReport(
        state=state,
        last_post=last_post,
        days_since_last_post=days_silent,
        posts_7d=counts[7],
        posts_14d=counts[14],
        posts_30d=counts[30],
        posts_90d=counts[90],
        median_gap_days=round(median_gap, 3) if median_gap is not None else None,
        longest_gap_days=round(longest_gap, 3) if longest_gap is not None else None,
        posts_per_week=round(posts_per_week, 3),
        planned_per_week=planned_per_week,
        below_plan=below_plan,
        feed_broken=broken,
        plan_window_days=round(window / DAY, 1),
        plan_judged=judged,
    )


def dormancy_state(days_silent: int, *, thresholds: ActivityThresholds) -> DormancyState:
    """The state for a silence of ``days_silent`` whole days (feed known to be healthy)."""
    if days_silent >= thresholds.closure_candidate_days:
        return DormancyState.CLOSURE_CANDIDATE
    if days_silent >= thresholds.dormant_days:
        return DormancyState.DORMANT
    if days_silent >= thresholds.warning_days:
        return DormancyState.WARNING
    return DormancyState.ACTIVE


def is_feed_broken(
    health: PollHealth,
    *,
    registered_at: datetime,
    now: datetime,
    thresholds: ActivityThresholds,
) -> bool:
    """No successful poll for ``feed_broken_after`` (counted from registration if never), or
    ``feed_broken_failures`` failures in a row."""
    if health.consecutive_failures >= thresholds.feed_broken_failures:
        return True
    since = health.last_success or registered_at
    return now - since >= thresholds.feed_broken_after


def clamp_published(published: datetime | None, *, first_seen: datetime) -> datetime:
    """The time a post counts as published: its own date, but never after we first saw it."""
    if published is None or published > first_seen:
        return first_seen
    return published


def counts_as_activity(
    published: datetime,
    *,
    newest_known: datetime | None,
    thresholds: ActivityThresholds | None = None,
) -> bool:
    """False for a re-surfaced old item: one dated more than ``resurfaced_after_days`` before the
    newest post already known for the account (a re-ordered or re-published archive is not
    fresh activity). Everything counts for an account with no known posts."""
    if newest_known is None:
        return True
    t = thresholds or ActivityThresholds()
    return published >= newest_known - t.resurfaced_after_days * DAY


def _require_aware(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value
