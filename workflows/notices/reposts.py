"""Repost task (转载任务) notices: an account was assigned a task, and the reminders."""

from __future__ import annotations

from workflows.notices.base import Notice, notice, part


@part
class RepostNotice(Notice):
    """One task as it stood when the notice was queued, for one of its accounts."""

    task_id: int
    title: str
    link: str = ""
    deadline: str = ""  # local time, as the office set it
    account_id: int
    account: str
    platform: str = ""
    headline_counts: bool = False


@notice("repost.assigned")
class RepostAssigned(RepostNotice):
    def dedup_key(self) -> str:
        return f"repost.assigned:{self.task_id}:{self.account_id}"


@notice("repost.reminder")
class RepostReminder(RepostNotice):
    stage: str = "day_before"  # governance.reposts.Reminder

    def dedup_key(self) -> str:
        return f"repost.reminder:{self.task_id}:{self.stage}:{self.account_id}"
