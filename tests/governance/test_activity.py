"""Activity figures and dormancy state, driven by moving the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from governance.activity import (
    ActivityThresholds,
    DormancyState,
    PollHealth,
    clamp_published,
    compute_activity,
    counts_as_activity,
    dormancy_state,
    is_feed_broken,
)

REGISTERED = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def healthy(now: datetime = NOW) -> PollHealth:
    return PollHealth(last_success=now - timedelta(minutes=20))


def report(posts: list[datetime], *, now: datetime = NOW, plan: float | None = None, **kw):
    return compute_activity(
        posts,
        registered_at=kw.pop("registered_at", REGISTERED),
        planned_per_week=plan,
        now=now,
        poll_health=kw.pop("health", healthy(now)),
        **kw,
    )


@pytest.mark.parametrize(
    ("days", "state"),
    [
        (0, DormancyState.ACTIVE),
        (6.99, DormancyState.ACTIVE),
        (7, DormancyState.WARNING),
        (13.9, DormancyState.WARNING),
        (14, DormancyState.DORMANT),
        (59.9, DormancyState.DORMANT),
        (60, DormancyState.CLOSURE_CANDIDATE),
        (400, DormancyState.CLOSURE_CANDIDATE),
    ],
)
def test_state_follows_days_since_last_post(days: float, state: DormancyState) -> None:
    last = datetime(2023, 12, 1, tzinfo=UTC)
    result = report([last], now=last + timedelta(days=days))
    assert result.state is state
    assert result.days_since_last_post == int(days)


def test_moving_clock_crosses_each_threshold_once() -> None:
    last = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
    states = []
    for hour in range(0, 70 * 24, 6):
        now = last + timedelta(hours=hour)
        state = report([last], now=now).state
        if not states or states[-1][1] is not state:
            states.append((now - last, state))
    assert states == [
        (timedelta(0), DormancyState.ACTIVE),
        (timedelta(days=7), DormancyState.WARNING),
        (timedelta(days=14), DormancyState.DORMANT),
        (timedelta(days=60), DormancyState.CLOSURE_CANDIDATE),
    ]


def test_no_posts_counts_from_registration() -> None:
    registered = NOW - timedelta(days=15)
    result = report([], registered_at=registered)
    assert result.last_post is None
    assert result.days_since_last_post == 15
    assert result.state is DormancyState.DORMANT
    assert result.median_gap_days is None and result.longest_gap_days is None


def test_counts_and_gaps() -> None:
    posts = [NOW - timedelta(days=d) for d in (1, 3, 10, 20, 40, 100)]
    result = report(posts)
    assert (result.posts_7d, result.posts_14d, result.posts_30d, result.posts_90d) == (2, 3, 4, 5)
    assert result.last_post == NOW - DAY
    assert result.median_gap_days == 10.0  # gaps 60, 20, 10, 7, 2
    assert result.longest_gap_days == 60.0


def test_longest_gap_includes_current_silence() -> None:
    posts = [NOW - timedelta(days=d) for d in (30, 31)]
    result = report(posts)
    assert result.longest_gap_days == 30.0 and result.median_gap_days == 1.0


def test_future_posts_are_ignored() -> None:
    result = report([NOW + DAY, NOW - 2 * DAY])
    assert result.last_post == NOW - 2 * DAY and result.posts_7d == 1


def test_below_plan_over_four_weeks() -> None:
    twice_a_week = [NOW - timedelta(days=3.5 * n) for n in range(8)]
    assert report(twice_a_week, plan=2).below_plan is False
    assert report(twice_a_week, plan=2).posts_per_week == 2.0
    assert report(twice_a_week[:7], plan=2).below_plan is True
    assert report(twice_a_week, plan=None).below_plan is False
    assert report(twice_a_week, plan=0).below_plan is False


def test_below_plan_prorated_for_new_accounts() -> None:
    registered = NOW - timedelta(days=7)
    posts = [NOW - timedelta(days=d) for d in (1, 3, 5)]
    assert report(posts, plan=3, registered_at=registered).below_plan is False
    assert report(posts[:2], plan=3, registered_at=registered).below_plan is True


@pytest.mark.parametrize(
    "health",
    [
        PollHealth(last_success=NOW - timedelta(hours=24)),
        PollHealth(last_success=NOW - timedelta(hours=1), consecutive_failures=5),
        PollHealth(last_success=None),
    ],
)
def test_broken_feed_never_makes_an_account_dormant(health: PollHealth) -> None:
    silent_for_months = [NOW - timedelta(days=90)]
    result = report(silent_for_months, health=health, plan=5)
    assert result.feed_broken
    assert result.state is DormancyState.UNKNOWN
    assert result.below_plan is False
    assert result.days_since_last_post == 90  # the figures are still reported


def test_feed_recovers_and_state_comes_back() -> None:
    posts = [NOW - timedelta(days=20)]
    broken = report(posts, health=PollHealth(NOW - timedelta(days=2), consecutive_failures=9))
    recovered = report(posts, health=PollHealth(NOW, consecutive_failures=0))
    assert (broken.state, recovered.state) == (DormancyState.UNKNOWN, DormancyState.DORMANT)


def test_feed_broken_rules() -> None:
    t = ActivityThresholds()
    just_registered = NOW - timedelta(hours=2)
    assert not is_feed_broken(
        PollHealth(None), registered_at=just_registered, now=NOW, thresholds=t
    )
    assert is_feed_broken(PollHealth(None), registered_at=REGISTERED, now=NOW, thresholds=t)
    recent = PollHealth(NOW - timedelta(hours=23, minutes=59), consecutive_failures=4)
    assert not is_feed_broken(recent, registered_at=REGISTERED, now=NOW, thresholds=t)


def test_custom_thresholds() -> None:
    t = ActivityThresholds(warning_days=3, dormant_days=5, closure_candidate_days=30)
    assert dormancy_state(3, thresholds=t) is DormancyState.WARNING
    assert report([NOW - 6 * DAY], thresholds=t).state is DormancyState.DORMANT
    with pytest.raises(ValueError):
        ActivityThresholds(warning_days=20, dormant_days=14)


def test_state_severity_orders_alerts() -> None:
    order = [DormancyState.ACTIVE, DormancyState.WARNING, DormancyState.DORMANT]
    assert [s.severity for s in order] == sorted(s.severity for s in order)
    assert DormancyState.UNKNOWN.severity == DormancyState.ACTIVE.severity


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        report([datetime(2024, 5, 1)])


def test_clamp_published() -> None:
    seen = NOW
    assert clamp_published(None, first_seen=seen) == seen
    assert clamp_published(seen + DAY, first_seen=seen) == seen
    assert clamp_published(seen - DAY, first_seen=seen) == seen - DAY


def test_resurfaced_old_items_are_not_fresh_activity() -> None:
    newest = NOW - DAY
    assert counts_as_activity(NOW - 10 * DAY, newest_known=newest)
    assert counts_as_activity(newest - timedelta(days=30), newest_known=newest)
    assert not counts_as_activity(newest - timedelta(days=31), newest_known=newest)
    assert counts_as_activity(NOW - 400 * DAY, newest_known=None)
    short = ActivityThresholds(resurfaced_after_days=5)
    assert not counts_as_activity(newest - 6 * DAY, newest_known=newest, thresholds=short)
