"""Website alerts: the home page cannot be opened (and opens again), a veto rule now fails."""

from __future__ import annotations

from dataclasses import field

from workflows.notices.base import notice
from workflows.notices.monitoring import AboutAccount


@notice("website.down")
class SiteDownAlert(AboutAccount):
    """The home page failed ``failures`` visits in a row (each over the time limit or refused)."""

    url: str = ""
    failures: int = 0
    error: str = ""
    since: str = ""
    episode: str = "-"  # when the outage began (yyyymmddHHMMSS): one alert per outage

    def dedup_key(self) -> str:
        return f"website.down:{self.account_id}:{self.episode}"


@notice("website.recovered")
class SiteRecoveredAlert(AboutAccount):
    url: str = ""
    since: str = ""
    episode: str = "-"

    def dedup_key(self) -> str:
        return f"website.down:{self.account_id}:{self.episode}:ok"


@notice("website.veto")
class WebsiteVetoAlert(AboutAccount):
    """A veto rule of the website indicators fails (单项否决): ``indicator`` and ``reason`` are
    message ids, ``values`` the reason's parameters (text values may be message ids too), so
    each reader gets them in their language."""

    rule: str = ""
    indicator: str = ""
    reason: str = ""
    values: dict[str, str | int] = field(default_factory=dict)
    episode: str = "-"

    def dedup_key(self) -> str:
        return f"website.veto:{self.account_id}:{self.rule}:{self.episode}"
