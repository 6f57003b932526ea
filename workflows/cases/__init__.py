"""Rectification (整改) workflows: open, explain, escalate, interview, extend, close, resolve.

A case is opened by the evaluation job (dormant account), by the quality scan (veto finding)
or by hand from the account card, always in the caller's transaction; the case table, its reads
and the unique active key live in :mod:`models.cases`. While an account has an active case it
is 整改中; when its last case ends it is 在用 again. Every move writes an audit row and queues
its notices.
"""

from workflows.cases.handling import (
    close_account,
    escalate_due,
    explain,
    extend,
    record_interview,
)
from workflows.cases.opening import ensure_case, open_by_hand, open_finding_problems
from workflows.cases.resolution import (
    end_with_closed_accounts,
    resolve,
    resolve_by_hand,
    resolve_dormant,
    resolve_fixed_findings,
    resolve_website,
    sweep,
)

__all__ = [
    "close_account",
    "end_with_closed_accounts",
    "ensure_case",
    "escalate_due",
    "explain",
    "extend",
    "open_by_hand",
    "open_finding_problems",
    "record_interview",
    "resolve",
    "resolve_by_hand",
    "resolve_dormant",
    "resolve_fixed_findings",
    "resolve_website",
    "sweep",
]
