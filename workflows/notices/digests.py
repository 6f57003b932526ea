"""The daily (admins) and weekly (a unit's managers) digests: figures of one period."""

from __future__ import annotations

from dataclasses import field

from workflows.notices.base import Notice, notice


@notice("digest")
class Digest(Notice):
    """What one digest says; every list is short (the message is read on a phone)."""

    period: str  # daily | weekly
    label: str  # the local date, or the ISO week
    unit_id: int = 0
    unit: str = ""
    days: int = 1
    new_problems: dict[str, int] = field(default_factory=dict)
    veto_problems: int = 0
    newly_dormant: list[tuple[int, str]] = field(default_factory=list)  # (account id, name)
    newly_dormant_total: int = 0
    cases_opened: int = 0
    cases_resolved: int = 0
    cases_overdue: int = 0
    cases_overdue_now: int = 0
    cases_active: int = 0
    feeds_broken: int = 0
    below_plan: int = 0
    reviews_late: int = 0
    reposts_overdue: list[tuple[int, str, int, list[str]]] = field(default_factory=list)
    """Repost tasks past their deadline: (task id, title, accounts pending, first names)."""

    def dedup_key(self) -> str:
        if self.period == "weekly":
            return f"digest:weekly:{self.label}:{self.unit_id}"
        return f"digest:{self.period}:{self.label}"
