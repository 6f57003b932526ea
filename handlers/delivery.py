"""What an outbox row asks the sender to do: one text, or a list of actions.

Most notices are one text message; an approver's card is copies of the submitter's original
messages (copyMessage) followed by the card, and a decided card is an edit of a message another
row sent. The sender (``bot.outbox``) performs one action per pass and remembers its progress.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup

Rendered = tuple[str, InlineKeyboardMarkup | None]


@dataclass(frozen=True, slots=True)
class Send:
    """Send a new text message to the row's chat."""

    text: str
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class Copy:
    """Copy someone's original message (text, photo, file) into the row's chat (copyMessage)."""

    from_chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class Edit:
    """Edit the message that outbox row ``ref`` sent (a card that has been decided)."""

    ref: int
    text: str
    markup: InlineKeyboardMarkup | None = None


Action = Send | Copy | Edit


def actions_of(rendered: Rendered | list[Action]) -> list[Action]:
    """A plain (text, markup) rendering is one Send."""
    if isinstance(rendered, tuple):
        return [Send(*rendered)]
    return rendered
