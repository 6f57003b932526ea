"""How every paged list looks: the count line and the ◀ ▶ buttons, from a :class:`Page`.

The buttons are the list's own callback data (its filters) with the cursor fields of
:class:`handlers.callbacks.PageCursor` replaced, so a press re-reads the list from the database
(with the presser's rights) starting after the row the person last saw; they carry the total
counted when the list was opened, so a page turn does not count the list again.
"""

from __future__ import annotations

from typing import Any, TypeVar

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import PageCursor
from handlers.keyboards import Keyboard
from models.paging import Cursor, Page

D = TypeVar("D", bound=CallbackData)


def cursor_of(data: PageCursor) -> Cursor | None:
    """The page a button asks for; None: the first page."""
    if not data.rid:
        return None
    return Cursor(key=data.key, id=data.rid, back=data.back, total=data.of or None)


def first_page(data: D) -> D:
    return data.model_copy(update={"key": 0, "rid": 0, "back": False, "of": 0})


def _turn(data: D, cursor: Cursor, *, back: bool, total: int) -> D:
    """A page button: the cursor, and the total while the button still fits Telegram's 64
    bytes (a list with long filters counts again instead)."""
    turn = data.model_copy(update={"key": cursor.key, "rid": cursor.id, "back": back, "of": total})
    try:
        turn.pack()  # refuses more than Telegram's 64 bytes
    except ValueError:
        return turn.model_copy(update={"of": 0})
    return turn


def span_text(page: Page[Any], *, total: bool = True) -> str:
    """ "第 9–16 条，共 150 条" (or "共 0 条"): where this page is in the whole list; without
    the total when the list's own heading already counts it."""
    if not page.rows:
        return _("共 {total} 条").format(total=page.total)
    if not total:
        return _("第 {first}–{last} 条").format(
            first=page.before + 1, last=page.before + len(page.rows)
        )
    return _("第 {first}–{last} 条，共 {total} 条").format(
        first=page.before + 1, last=page.before + len(page.rows), total=page.total
    )


def nav_row(page: Page[Any], data: D) -> Keyboard:
    """◀ previous, next ▶ (and back to the first page when far in), as one keyboard row."""
    nav = Keyboard()
    if page.has_prev and page.first is not None:
        nav.button(
            text=_("◀ 上一页"),
            callback_data=_turn(data, page.first, back=True, total=page.total),
        )
    if page.has_next and page.last is not None:
        nav.button(
            text=_("下一页 ▶"),
            callback_data=_turn(data, page.last, back=False, total=page.total),
        )
    if page.before > len(page.rows):
        nav.button(text=_("⏮ 第一页"), callback_data=first_page(data))
    nav.adjust(3)
    return nav
