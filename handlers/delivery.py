"""What an outbox row asks the sender to do: one text, or a list of actions.

Most notices are one text message; an approver's card is copies of the submitter's original
messages (copyMessage) followed by the card, and a decided card is an edit of a message another
row sent. The sender (``bot.outbox``) performs one action per pass and remembers its progress.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, get_type_hints

from aiogram.types import InlineKeyboardMarkup

from workflows.notices import Notice, kinds

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


Renderer = Callable[[Any], Rendered | list[Action]]


class Renderers:
    """Each notice kind's renderer, keyed by the notice type its first parameter names.

    Built once at import: a renderer whose annotation is not a notice type, or a kind with two
    renderers, fails at start-up rather than when a message is sent.
    """

    def __init__(self, *renderers: Renderer) -> None:
        self._by_type: dict[type[Notice], Renderer] = {}
        for renderer in renderers:
            first = next(iter(inspect.signature(renderer).parameters))
            kind = get_type_hints(renderer)[first]
            if not (isinstance(kind, type) and issubclass(kind, Notice)):
                raise TypeError(f"{renderer.__qualname__}: first parameter is not a notice type")
            if kind in self._by_type:
                raise TypeError(f"two renderers for {kind.__name__}")
            self._by_type[kind] = renderer

    def __iter__(self) -> Iterator[Renderer]:
        return iter(self._by_type.values())

    def missing(self) -> set[str]:
        """Registered notice kinds without a renderer (a test keeps this empty)."""
        known = {cls.kind for cls in self._by_type}
        return set(kinds()) - known

    def render(self, notice: Notice) -> list[Action]:
        renderer = self._by_type.get(type(notice))
        if renderer is None:
            raise LookupError(f"no renderer for notice kind {notice.kind!r}")
        return actions_of(renderer(notice))
