"""Inline keyboards built without aiogram's deep copies.

aiogram's ``InlineKeyboardBuilder`` deep-copies its whole markup (pydantic buttons included) on
every ``button()``, on ``adjust()``, ``attach()`` and ``as_markup()``: a list of eight accounts
with its page and filter rows cost some forty deep copies, about a tenth of a reply's CPU. The
copies protect the builder's rows from whoever holds an exported markup; :class:`Keyboard`
copies the rows (lists) only and shares the buttons, which nothing in the bot changes after
adding them. Everything else is aiogram's builder, unchanged.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton
from aiogram.utils.keyboard import InlineKeyboardBuilder


class Keyboard(InlineKeyboardBuilder):
    """``InlineKeyboardBuilder`` whose ``export`` copies rows, not buttons."""

    def export(self) -> list[list[InlineKeyboardButton]]:
        return [list(row) for row in self._markup]
