"""Rectification (整改) notices: a case opened, explained, overdue, escalated, closed."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from pydantic import AliasChoices, Field

from workflows.notices.base import Notice, notice, part


@part
class CaseNotice(Notice):
    """A case and its account as they stood when the notice was queued."""

    case_id: int
    version: int = 1
    account_id: int
    name: str
    platform: str
    unit: str = ""
    # stored as "kind" by the first release; the notice's own kind is a class attribute
    case_kind: str = Field(default="", validation_alias=AliasChoices("case_kind", "kind"))
    level: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0
    deadline: str = ""
    stamp: str = "-"  # the moment that makes a repeat a new event (an extension, a deadline)

    def dedup_key(self) -> str:
        return f"{self.kind}:{self.case_id}:{self.level}:{self.stamp}"


@notice("case.opened")
class CaseOpened(CaseNotice):
    days: int = 0  # working days to rectify


@notice("case.explained")
class CaseExplained(CaseNotice):
    explanation: str = ""


@notice("case.overdue")
class CaseOverdue(CaseNotice):
    missed: str = ""


@notice("case.interview_suggested")
class CaseInterviewSuggested(CaseNotice):
    missed: str = ""


@notice("case.interviewed")
class CaseInterviewed(CaseNotice):
    note: str = ""


@notice("case.closure_recommended")
class CaseClosureRecommended(CaseNotice):
    missed: str = ""


@notice("case.extended")
class CaseExtended(CaseNotice):
    pass


@notice("case.resolved")
class CaseResolved(CaseNotice):
    resolution: str = ""


@notice("case.closed")
class CaseClosed(CaseNotice):
    notice_url: str = ""
