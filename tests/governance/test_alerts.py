"""Alert rules: raised once on entering a worse state, repeated on schedule, lifted on recovery;
a broken feed freezes the dormancy track."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from governance.activity import DormancyState as S
from governance.alerts import (
    DORMANCY_AUDIENCE,
    Action,
    Audience,
    FeedTrack,
    Track,
    decide_dormancy,
    decide_feed,
)

T0 = datetime(2026, 1, 5, tzinfo=UTC)
EVERY = timedelta(days=3)


def step(track: Track, state: S, day: float):
    return decide_dormancy(track, state, now=T0 + timedelta(days=day), repeat_every=EVERY)


def test_entering_a_worse_state_raises_once_then_repeats_every_interval() -> None:
    d = step(Track(), S.WARNING, 7)
    assert d.action is Action.RAISE and d.track.state is S.WARNING
    assert step(d.track, S.WARNING, 9).action is Action.NONE
    again = step(d.track, S.WARNING, 10)
    assert again.action is Action.REPEAT and again.track.repeats == 1
    worse = step(again.track, S.DORMANT, 14)
    assert worse.action is Action.RAISE and worse.track.repeats == 0


def test_posting_again_recovers_and_easing_without_posting_is_silent() -> None:
    dormant = Track(state=S.DORMANT, since=T0, last_alert_at=T0)
    assert step(dormant, S.ACTIVE, 1).action is Action.RECOVER
    assert step(dormant, S.WARNING, 1).action is Action.SETTLE
    assert step(Track(), S.ACTIVE, 1).action is Action.NONE


def test_unknown_state_of_a_broken_feed_changes_nothing() -> None:
    dormant = Track(state=S.DORMANT, since=T0, last_alert_at=T0)
    decision = step(dormant, S.UNKNOWN, 30)
    assert decision.action is Action.NONE and decision.track == dormant


def test_warning_stays_with_the_responsible_person_dormant_reaches_unit_and_office() -> None:
    assert DORMANCY_AUDIENCE[S.WARNING] == {Audience.RESPONSIBLE}
    assert Audience.UNIT_MANAGERS in DORMANCY_AUDIENCE[S.DORMANT]
    assert Audience.OFFICE in DORMANCY_AUDIENCE[S.CLOSURE_CANDIDATE]  # alert chat, else each admin


def test_feed_track_raises_repeats_and_recovers() -> None:
    raised = decide_feed(FeedTrack(), True, now=T0, repeat_every=EVERY)
    assert raised.action is Action.RAISE
    assert decide_feed(raised.track, True, now=T0 + EVERY / 2, repeat_every=EVERY).action is (
        Action.NONE
    )
    assert decide_feed(raised.track, True, now=T0 + EVERY, repeat_every=EVERY).action is (
        Action.REPEAT
    )
    assert decide_feed(raised.track, False, now=T0, repeat_every=EVERY).action is Action.RECOVER
