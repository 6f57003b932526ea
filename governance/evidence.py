"""What a report may claim about an account, and on what evidence.

Pure. Two questions come before any score:

1. **Could the feed be read for the period?** Every poll since the period began is looked at
   (a feed carries its history, so a poll made after a past period still speaks about it). One
   poll that read a feed is enough; otherwise the latest poll's fault is the account's result:
   no feed, an HTTP status, not a feed, an empty answer, a truncated or malformed document with
   no item, a refused address, a timeout. Such an account is *无法评估*: counted apart, never
   scored, never "dormant".
2. **How long has the account been silent, and says who?** Days without a post are counted
   only from evidence: the last post seen, else the registration date (the bot has watched the
   account since), else the ledger's opening date. A feed whose oldest item is after the
   moment in question proves nothing about it (覆盖不足), and a feed with no item and no date
   proves nothing at all.

::

    PollFact ──poll_fault()──▶ Fault | None
    [PollFact] ──feed_reading()──▶ FeedReading (fault or readable)
    post times + dates ──silence_as_of()──▶ Silence (days + basis, or a lack)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from governance.activity import DAY
from governance.i18n import N_


class Fault(StrEnum):
    """Why a feed could not be read for a period."""

    NO_FEED = "no_feed"
    NEVER_READ = "never_read"
    HTTP = "http"
    NOT_A_FEED = "not_a_feed"
    EMPTY = "empty"
    MALFORMED = "malformed"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    NETWORK = "network"
    BLOCKED = "blocked"
    TOO_LARGE = "too_large"
    BROKEN = "broken"


FAULT_LABELS: dict[Fault, str] = {
    Fault.NO_FEED: N_("未登记订阅源"),
    Fault.NEVER_READ: N_("尚未抓取"),
    Fault.HTTP: N_("HTTP {status} 错误"),
    Fault.NOT_A_FEED: N_("不是订阅源（RSS/Atom/JSON Feed）"),
    Fault.EMPTY: N_("空响应"),
    Fault.MALFORMED: N_("订阅源内容不完整或格式错误，读不出任何条目"),
    Fault.REFUSED: N_("地址被拒绝（内网、保留地址或格式无效）"),
    Fault.TIMEOUT: N_("连接超时"),
    Fault.NETWORK: N_("无法连接"),
    Fault.BLOCKED: N_("被上游拒绝访问"),
    Fault.TOO_LARGE: N_("订阅源内容过大"),
    Fault.BROKEN: N_("监测源持续异常（期末连续抓取失败）"),
}

#: Parser messages of a document cut short: what was recovered from it is not the feed.
_TRUNCATED = re.compile(r"no element found|unclosed token|unexpected end", re.IGNORECASE)
_BY_OUTCOME = {
    "timeout": Fault.TIMEOUT,
    "network": Fault.NETWORK,
    "rate_limited": Fault.HTTP,
    "server_error": Fault.HTTP,
    "misconfigured": Fault.HTTP,
    "blocked": Fault.BLOCKED,
    "not_a_feed": Fault.NOT_A_FEED,
    "too_large": Fault.TOO_LARGE,
    "forbidden_address": Fault.REFUSED,
    "bad_url": Fault.REFUSED,
    "empty_body": Fault.EMPTY,  # a 200 with nothing in it (the fetch layer's own outcome)
}


@dataclass(frozen=True, slots=True)
class PollFact:
    """One recorded poll, as the report needs it."""

    at: datetime
    outcome: str
    http_status: int | None = None
    items_seen: int = 0
    error: str | None = None


def poll_fault(poll: PollFact) -> Fault | None:
    """The poll's fault, or None when it read the feed.

    An empty 200 answer, a document with parse errors and no item, and a document cut short
    (whatever the lenient parser recovered from it) are faults even where the fetch layer
    called them a success: they show nothing reliable about the account.
    """
    if poll.outcome == "ok":
        if poll.error and (poll.items_seen == 0 or _TRUNCATED.search(poll.error)):
            return Fault.MALFORMED
        return None
    if poll.outcome == "not_modified":
        return Fault.EMPTY if poll.error and "empty" in poll.error else None
    if poll.outcome == "no_posts":
        return None
    return _BY_OUTCOME.get(poll.outcome, Fault.NETWORK)


@dataclass(frozen=True, slots=True)
class FeedReading:
    fault: Fault | None = None
    status: int | None = None
    """The HTTP status of the failing answer, when there was one."""

    @property
    def readable(self) -> bool:
        return self.fault is None


READABLE = FeedReading()


def feed_reading(
    polls: Sequence[PollFact],
    *,
    has_feed: bool,
    since: datetime,
    last_success_at: datetime | None = None,
    broken_now: bool = False,
) -> FeedReading:
    """Whether the feed was read for a period that began at ``since``.

    ``polls`` may hold any history; those before ``since`` do not count. With none left (the
    history is pruned), a successful poll recorded since ``since`` still counts. ``broken_now``
    (the current period only) says the feed kept failing up to now.
    """
    if not has_feed:
        return FeedReading(Fault.NO_FEED)
    recent = sorted((p for p in polls if p.at >= since), key=lambda p: p.at)
    if broken_now:
        last = recent[-1] if recent else None
        fault = poll_fault(last) if last is not None else None
        return FeedReading(fault or Fault.BROKEN, last.http_status if last else None)
    if any(poll_fault(p) is None for p in recent):
        return READABLE
    if recent:
        last = recent[-1]
        return FeedReading(poll_fault(last) or Fault.NETWORK, last.http_status)
    if last_success_at is not None and last_success_at >= since:
        return READABLE
    return FeedReading(Fault.NEVER_READ)


class Basis(StrEnum):
    """Where a count of days without posts starts."""

    LAST_POST = "last_post"
    REGISTERED = "registered"
    OPENED = "opened"


class Lack(StrEnum):
    """Why no count of days without posts can be given."""

    COVERAGE = "coverage"
    NO_EVIDENCE = "no_evidence"


BASIS_LABELS: dict[Basis, str] = {
    Basis.LAST_POST: N_("最近一条发布 {date}"),
    Basis.REGISTERED: N_("登记日期 {date}（此后未见发布）"),
    Basis.OPENED: N_("台账开设日期 {date}（此后未见发布）"),
}
LACK_LABELS: dict[Lack, str] = {
    Lack.COVERAGE: N_("覆盖不足：订阅源最早一条为 {date}，不能说明此前是否更新"),
    Lack.NO_EVIDENCE: N_("订阅源没有任何条目，也没有登记或开设日期可依据"),
}


@dataclass(frozen=True, slots=True)
class Silence:
    """Days without a post as of a moment, with their basis; or why there are none."""

    days: int | None
    basis: Basis | None
    since: datetime | None
    lack: Lack | None = None
    oldest_seen: datetime | None = None

    @property
    def known(self) -> bool:
        return self.days is not None


def silence_as_of(
    post_times: Sequence[datetime],
    *,
    as_of: datetime,
    oldest_seen: datetime | None,
    registered_at: datetime | None,
    opened_at: datetime | None = None,
) -> Silence:
    """Days without a post as of ``as_of``, counted only from evidence.

    ``oldest_seen`` is the oldest item the feed ever showed; ``registered_at`` is None where the
    registration date is not known (an inspector's throwaway import); ``opened_at`` comes from
    a ledger's opening date.
    """
    last = max((t for t in post_times if t <= as_of), default=None)
    oldest = min([*post_times, *([oldest_seen] if oldest_seen else [])], default=None)
    for basis, since in (
        (Basis.LAST_POST, last),
        (Basis.REGISTERED, registered_at),
        (Basis.OPENED, opened_at),
    ):
        if since is not None and since <= as_of:
            return Silence((as_of - since) // DAY, basis, since, oldest_seen=oldest)
    if oldest is not None:
        return Silence(None, None, None, Lack.COVERAGE, oldest)
    return Silence(None, None, None, Lack.NO_EVIDENCE)


def covered_from(
    *, oldest_seen: datetime | None, registered_at: datetime | None
) -> datetime | None:
    """The earliest moment from which every post would be known: the oldest item the feed
    showed, or registration (watched since) if earlier; None when there is no evidence."""
    known = [t for t in (oldest_seen, registered_at) if t is not None]
    return min(known, default=None)
