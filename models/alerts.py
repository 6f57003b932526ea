"""What each account was last alerted about: the memory that makes alerts fire once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.activity import DormancyState
from governance.alerts import FeedTrack, Track
from models.base import EnumString, UTCDateTime


class AlertState(SQLModel, table=True):
    __tablename__ = "alert_state"

    account_id: int = Field(foreign_key="accounts.id", primary_key=True)
    state: DormancyState = Field(default=DormancyState.ACTIVE, sa_type=EnumString(DormancyState))
    state_since: datetime | None = Field(default=None, sa_type=UTCDateTime())
    last_alert_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    repeats: int = 0
    feed_broken: bool = False
    feed_broken_since: datetime | None = Field(default=None, sa_type=UTCDateTime())
    feed_alert_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    feed_repeats: int = 0
    below_plan: bool = False
    #: The last evaluation that changed this row: an account whose evaluation would change
    #: nothing is not rewritten (``jobs.evaluate.settled``), so this is not "evaluated lately".
    evaluated_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    days_since_last_post: int | None = None

    def dormancy_track(self) -> Track:
        return Track(
            state=self.state,
            since=self.state_since,
            last_alert_at=self.last_alert_at,
            repeats=self.repeats,
        )

    def feed_track(self) -> FeedTrack:
        return FeedTrack(
            broken=self.feed_broken,
            since=self.feed_broken_since,
            last_alert_at=self.feed_alert_at,
            repeats=self.feed_repeats,
        )

    def apply(self, *, dormancy: Track, feed: FeedTrack) -> None:
        self.state = dormancy.state
        self.state_since, self.last_alert_at = dormancy.since, dormancy.last_alert_at
        self.repeats = dormancy.repeats
        self.feed_broken, self.feed_broken_since = feed.broken, feed.since
        self.feed_alert_at, self.feed_repeats = feed.last_alert_at, feed.repeats


async def get_or_new(session: AsyncSession, account_id: int) -> AlertState:
    state = await session.get(AlertState, account_id)
    return state if state is not None else AlertState(account_id=account_id)
