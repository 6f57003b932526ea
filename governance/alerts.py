"""When an activity alert goes out, to whom, and when it is repeated or lifted.

Pure: the caller passes what was last alerted and what the account's state is now. An alert is
raised once when an account enters a worse state, repeated every ``repeat_every`` while it stays
there, and followed by a recovery notice when the account posts again. A broken feed is a
separate track (a monitoring fault, for the admins only) and freezes the dormancy track: while
the feed is broken the dormancy state is unknown, so nothing is raised, repeated or lifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from governance.activity import DormancyState


class Audience(StrEnum):
    """Who receives a notice, named once; ``workflows.audience`` turns these into chats.

    Every place that decides recipients picks from these, so whether the office hears through
    its alert chat or admin by admin is decided in one place.
    """

    RESPONSIBLE = "responsible"
    """The account's responsible person (when active)."""
    UNIT_MANAGERS = "unit_managers"
    """The managers of the account's (or the named) unit."""
    OFFICE = "admins"
    """The 政务公开办: its alert chat (``ALERT_CHAT_ID``) when set, else each admin in private."""
    EACH_ADMIN = "each_admin"
    """Every admin in private: cards an admin decides with buttons."""
    ALERT_CHAT = "alert_chat"
    """Only the admins' alert chat, when there is one."""


#: Who hears about each dormancy state: warning stays with the responsible person; dormant
#: (the inspection's single-item veto) and closure candidate reach the unit and the office.
DORMANCY_AUDIENCE: dict[DormancyState, frozenset[Audience]] = {
    DormancyState.WARNING: frozenset({Audience.RESPONSIBLE}),
    # the office must hear of a 僵尸号 even before anyone set up the alert chat (OFFICE)
    DormancyState.DORMANT: frozenset(
        {Audience.RESPONSIBLE, Audience.UNIT_MANAGERS, Audience.OFFICE}
    ),
    DormancyState.CLOSURE_CANDIDATE: frozenset(
        {Audience.RESPONSIBLE, Audience.UNIT_MANAGERS, Audience.OFFICE}
    ),
}
FEED_AUDIENCE = frozenset({Audience.OFFICE})
#: A veto-level problem in a post (单项否决) reaches the account's people and the office at once.
VETO_AUDIENCE = frozenset({Audience.RESPONSIBLE, Audience.UNIT_MANAGERS, Audience.OFFICE})


class Action(StrEnum):
    NONE = "none"
    RAISE = "raise"
    REPEAT = "repeat"
    RECOVER = "recover"
    SETTLE = "settle"
    """The state eased without reaching active (e.g. a late-dated post): update silently."""


@dataclass(frozen=True, slots=True)
class Track:
    """What was last alerted on one track (dormancy or feed health)."""

    state: DormancyState = DormancyState.ACTIVE
    since: datetime | None = None
    last_alert_at: datetime | None = None
    repeats: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    track: Track
    """The track as it stands after this decision."""
    previous: Track


def decide_dormancy(
    track: Track, current: DormancyState, *, now: datetime, repeat_every: timedelta
) -> Decision:
    """The dormancy track's next step, given the state computed now."""
    if current is DormancyState.UNKNOWN:
        return Decision(Action.NONE, track, track)
    if current.severity > track.state.severity:
        new = Track(state=current, since=now, last_alert_at=now, repeats=0)
        return Decision(Action.RAISE, new, track)
    if current.severity < track.state.severity:
        action = Action.RECOVER if current is DormancyState.ACTIVE else Action.SETTLE
        new = Track(state=current, since=now, last_alert_at=None, repeats=0)
        return Decision(action, new, track)
    if current.severity > 0 and _repeat_due(track, now, repeat_every):
        new = Track(state=current, since=track.since, last_alert_at=now, repeats=track.repeats + 1)
        return Decision(Action.REPEAT, new, track)
    return Decision(Action.NONE, track, track)


@dataclass(frozen=True, slots=True)
class FeedTrack:
    broken: bool = False
    since: datetime | None = None
    last_alert_at: datetime | None = None
    repeats: int = 0


@dataclass(frozen=True, slots=True)
class FeedDecision:
    action: Action
    track: FeedTrack
    previous: FeedTrack


def decide_feed(
    track: FeedTrack, broken: bool, *, now: datetime, repeat_every: timedelta
) -> FeedDecision:
    """Raise when the feed breaks, repeat while it stays broken, notify when it works again."""
    if broken and not track.broken:
        return FeedDecision(Action.RAISE, FeedTrack(True, now, now, 0), track)
    if not broken and track.broken:
        return FeedDecision(Action.RECOVER, FeedTrack(), track)
    if broken and track.last_alert_at is not None and now - track.last_alert_at >= repeat_every:
        new = FeedTrack(True, track.since, now, track.repeats + 1)
        return FeedDecision(Action.REPEAT, new, track)
    return FeedDecision(Action.NONE, track, track)


def _repeat_due(track: Track, now: datetime, repeat_every: timedelta) -> bool:
    return track.last_alert_at is not None and now - track.last_alert_at >= repeat_every
