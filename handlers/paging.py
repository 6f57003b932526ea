"""How every paged list looks: the count line and the ◀ ▶ buttons, from a :class:`Page`.

The buttons are the list's own callback data (its filters) with the cursor fields of
:class:`handlers.callbacks.PageCursor` replaced, so a press re-reads the list from the database
(with the presser's rights) starting after the row the person last saw.
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
    return Cursor(key=data.key, id=data.rid, back=data.back) if data.rid else None


def first_page(data: D) -> D:
    return data.model_copy(update={"key": 0, "rid": 0, "back": False})


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
            callback_data=data.model_copy(
                update={"key": page.first.key, "rid": page.first.id, "back": True}
            ),
        )
    if page.has_next and page.last is not None:
        nav.button(
            text=_("下一页 ▶"),
            callback_data=data.model_copy(
                update={"key": page.last.key, "rid": page.last.id, "back": False}
            ),
        )
    if page.before > len(page.rows):
        nav.button(text=_("⏮ 第一页"), callback_data=first_page(data))
    nav.adjust(3)
    return nav
