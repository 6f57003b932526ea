"""How one poll of a feed ended: the enum and its messages live in :mod:`governance.outcomes`
(pure, so handlers can show them too); re-exported here for the fetch layer."""

from governance.outcomes import (
    OUTCOME_MESSAGES_ZH,
    PollOutcome,
    outcome_message_zh,
)

__all__ = ["OUTCOME_MESSAGES_ZH", "PollOutcome", "outcome_message_zh"]
