"""``Keyboard`` gives the markup aiogram's builder gives, without its deep copies; a markup
already exported stays as it was when the builder goes on."""

from __future__ import annotations

from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import AccList, AccOpen
from handlers.keyboards import Keyboard


def _build(kind: type[InlineKeyboardBuilder]) -> InlineKeyboardBuilder:
    kb = kind()
    for n in range(1, 6):
        kb.button(text=f"#{n} 政务号", callback_data=AccOpen(account_id=n))
    kb.adjust(2)
    nav = kind()
    nav.button(text="下一页 ▶", callback_data=AccList(key=3, rid=5))
    nav.button(text="按平台", callback_data="x")
    nav.adjust(3)
    kb.attach(nav)
    kb.row(*nav.buttons)
    return kb


def test_the_markup_is_the_one_aiogram_builds() -> None:
    assert _build(Keyboard).as_markup() == _build(InlineKeyboardBuilder).as_markup()


def test_an_exported_markup_does_not_change_when_the_builder_goes_on() -> None:
    kb = _build(Keyboard)
    markup = kb.as_markup()
    rows = [list(row) for row in markup.inline_keyboard]
    kb.button(text="更多", callback_data="more")
    kb.adjust(1)
    assert [list(row) for row in markup.inline_keyboard] == rows
