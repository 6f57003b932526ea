"""Notices of pre-publication review: approvers' cards, the submitter's news, reminders."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from governance.drafttext import Place
from workflows.notices.base import Notice, notice, part


@part
class CardFinding(Notice):
    """One pre-check finding as the card shows it: the hit in its context (PII masked)."""

    category: str
    severity: str = ""
    before: str = ""
    hit: str = ""
    after: str = ""
    suggestion: str | None = None
    rule: str = ""
    place: Place | None = None  # where in an uploaded document (表1第2行第2列, 脚注1, 第2页)


@notice("review.card")
class ReviewCard(Notice):
    """An approver's card: copies of the submitter's messages, then the card with buttons."""

    review_id: int
    round: int
    number: str
    title: str
    account: str = ""
    platform: str = ""
    submitter: str = ""
    stage: str
    stage_no: int = 1
    stage_count: int = 1
    rule: str = "any"
    deadline: str = ""
    planned_at: str = ""
    version: int = 1
    finding_count: int = 0
    findings: list[CardFinding] = field(default_factory=list)
    diff: list[tuple[str, str]] = field(default_factory=list)
    copies: list[tuple[int, int]] = field(default_factory=list)
    on_behalf_of: str = ""

    def dedup_key(self) -> str:
        return f"review.card:{self.review_id}:{self.round}"


@notice("review.card_closed")
class CardClosed(Notice):
    """Another approver's card of the round is done with: edit it (``ref`` = its outbox row)."""

    ref: int
    review_id: int = 0
    round: int = 0
    number: str
    title: str
    stage: str = ""
    outcome: str
    by: str = ""

    def dedup_key(self) -> str:
        return f"review.closed:{self.review_id}:{self.round}:{self.ref}"


@part
class ToSubmitter(Notice):
    """News for the submitter of a draft, once per review round."""

    review_id: int
    round: int = 0
    number: str
    title: str

    def dedup_key(self) -> str:
        return f"{self.kind}:{self.review_id}:{self.round}"


@notice("review.progress")
class Progress(ToSubmitter):
    passed: str
    next: str
    by: str


@notice("review.approved")
class Approved(ToSubmitter):
    by: str
    stage: str = ""
    reason: str = ""


@notice("review.returned")
class Returned(ToSubmitter):
    by: str
    stage: str
    reason: str = ""


@notice("review.rejected")
class Rejected(ToSubmitter):
    by: str
    stage: str
    reason: str = ""


@notice("review.expired")
class Expired(ToSubmitter):
    planned_at: str = ""


@notice("review.reminder")
class Reminder(Notice):
    review_id: int
    round: int = 0
    number: str
    title: str
    stage: str
    deadline: str
    due: bool = False

    def dedup_key(self) -> str:
        mark = "due" if self.due else "half"
        return f"review.remind:{self.review_id}:{self.round}:{mark}"


@notice("review.escalated")
class Escalated(Notice):
    review_id: int
    round: int = 0
    number: str
    title: str
    account: str = ""
    stage: str
    deadline: str
    waiting: list[str] = field(default_factory=list)

    def dedup_key(self) -> str:
        return f"review.escalate:{self.review_id}:{self.round}"


@notice("review.stuck")
class Stuck(Notice):
    review_id: int
    round: int = 0
    number: str
    title: str
    stage: str
    unit: str = ""

    def dedup_key(self) -> str:
        return f"review.stuck:{self.review_id}:{self.round}"


@notice("review.route_broken")
class RouteBroken(Notice):
    """A review route nobody can staff; ``why`` is a message id with ``why_params``."""

    route_id: int = 0
    route_version: int = 0
    day: str = ""
    scope: str
    why: str
    why_params: dict[str, Any] = field(default_factory=dict)

    def dedup_key(self) -> str:
        return f"review.route_broken:{self.route_id}:{self.route_version}:{self.day}"


@notice("review.delegated")
class Delegated(Notice):
    delegation_id: int = 0
    who: str
    until: str

    def dedup_key(self) -> str:
        return f"review.delegated:{self.delegation_id}"


@notice("review.unreviewed")
class Unreviewed(Notice):
    """A post published with no approved draft behind it (未经审核发布)."""

    flag_id: int = 0
    account: str
    platform: str
    title: str
    link: str = ""
    published_at: str = ""

    def dedup_key(self) -> str:
        return f"review.unreviewed:{self.flag_id}"
