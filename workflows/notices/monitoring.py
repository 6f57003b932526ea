"""Monitoring alerts: dormancy, recovery, broken feeds, veto-level findings in posts."""

from __future__ import annotations

from dataclasses import field

from workflows.notices.base import Notice, notice, part


@part
class AboutAccount(Notice):
    """Which account an alert is about."""

    account_id: int
    name: str
    platform: str
    unit: str = ""


@part
class ActivityFacts(AboutAccount):
    """The account's activity when the alert was decided (the latest post's title is shown
    masked, like every text that comes from a post)."""

    days: int | None = None
    last_title: str = ""
    last_link: str = ""
    last_date: str = ""
    posts_30d: int = 0
    planned: int = 0
    dormant_days: int = 14
    episode: str = "-"  # when the state began (yyyymmddHHMMSS): one alert per episode


@notice("alert.dormancy")
class DormancyAlert(ActivityFacts):
    state: str
    repeat: int = 0

    def dedup_key(self) -> str:
        return f"dormancy:{self.account_id}:{self.state}:{self.episode}:{self.repeat}"


@notice("alert.recovered")
class RecoveredAlert(ActivityFacts):
    previous: str = ""

    def dedup_key(self) -> str:
        return f"recovered:{self.account_id}:{self.previous}:{self.episode}"


@part
class FeedFacts(AboutAccount):
    outcome: str = ""
    status: int | None = None
    error: str = ""
    failures: int = 0
    last_success: str = ""
    repeat: int = 0
    episode: str = "-"  # when the feed broke (yyyymmddHHMMSS)


@notice("alert.feed_broken")
class FeedBrokenAlert(FeedFacts):
    def dedup_key(self) -> str:
        return f"feed:{self.account_id}:{self.episode}:{self.repeat}"


@notice("alert.feed_recovered")
class FeedRecoveredAlert(FeedFacts):
    def dedup_key(self) -> str:
        return f"feed:{self.account_id}:{self.episode}:ok"


@part
class VetoProblem(Notice):
    """One veto-level finding of a post (personal data only in its masked form)."""

    category: str
    text: str


@notice("finding.veto")
class VetoFinding(AboutAccount):
    """A post with veto-level defects (单项否决): one alert per post listing every problem.

    Rows queued before grouping carry one ``category``/``text`` pair instead of ``problems``.
    """

    finding_id: int = 0
    post_id: int = 0
    problems: list[VetoProblem] = field(default_factory=list)
    category: str = ""
    text: str = ""
    post_title: str = ""
    post_link: str = ""

    def all_problems(self) -> list[VetoProblem]:
        if self.problems:
            return list(self.problems)
        return [VetoProblem(category=self.category, text=self.text)] if self.category else []

    def dedup_key(self) -> str:
        return f"finding:{self.finding_id}"
