"""The review workflow (先审后发, 三审三校) applied to the database, by lifecycle.

``submit`` (pre-check, route, first stage; resubmission), ``stages`` (approvers' cards, the
submitter's news, stuck stages), ``decide`` (decisions, withdrawal, the approver's queue) and
``deadlines`` (expiry, reminders, escalation). Which transition a decision causes is decided by
:mod:`governance.review`; these modules load the facts, apply the outcome, write the audit rows
and queue the notices.
"""

from workflows.reviews.common import card_findings
from workflows.reviews.deadlines import expire_due, remind_due
from workflows.reviews.decide import (
    Decided,
    bulk_approve,
    check_assignee,
    decide,
    mark_opened,
    withdraw,
)
from workflows.reviews.stages import card_notice, enter_stage
from workflows.reviews.submit import (
    Prechecked,
    check_can_submit,
    precheck_draft,
    resubmit,
    submit,
    submittable_accounts,
)

__all__ = [
    "Decided",
    "Prechecked",
    "bulk_approve",
    "card_findings",
    "card_notice",
    "check_assignee",
    "check_can_submit",
    "decide",
    "enter_stage",
    "expire_due",
    "mark_opened",
    "precheck_draft",
    "remind_due",
    "resubmit",
    "submit",
    "submittable_accounts",
    "withdraw",
]
