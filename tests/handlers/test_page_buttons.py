"""Page buttons carry the total counted when the list was opened, while it fits a button."""

from __future__ import annotations

from bot.i18n import build_i18n
from handlers.callbacks import AccList, DormantList
from handlers.paging import cursor_of, nav_row
from models.paging import Cursor, Page


def _page(total: int, before: int, key: int) -> Page[int]:
    return Page(
        rows=list(range(8)),
        total=total,
        before=before,
        first=Cursor(key=key, id=9_000_001),
        last=Cursor(key=key, id=9_000_008),
    )


def _buttons(page: Page[int], data: AccList | DormantList) -> dict[str, str]:
    i18n = build_i18n()
    with i18n.context(), i18n.use_locale("zh_CN"):
        markup = nav_row(page, data).as_markup()
    return {b.text: b.callback_data or "" for row in markup.inline_keyboard for b in row}


def test_page_buttons_carry_the_total_so_a_turn_does_not_count_again() -> None:
    buttons = _buttons(_page(110_000, 80, key=42), AccList(status="active"))
    turn = AccList.unpack(buttons["下一页 ▶"])
    assert turn.of == 110_000
    cursor = cursor_of(turn)
    assert cursor is not None and (cursor.total, cursor.back) == (110_000, False)
    assert AccList.unpack(buttons["◀ 上一页"]).of == 110_000
    assert AccList.unpack(buttons["⏮ 第一页"]).of == 0, "the first page counts afresh"


def test_a_button_too_long_for_the_total_counts_again_instead() -> None:
    data = AccList(unit_id=999_999, platform="x" * 11, status="y" * 11)  # 62 bytes without
    buttons = _buttons(_page(9_999_999, 80, key=1_780_000_000_000_000), data)
    for packed in buttons.values():
        assert len(packed.encode()) <= 64
    turn = AccList.unpack(buttons["下一页 ▶"])
    assert turn.of == 0 and turn.rid == 9_000_008
    cursor = cursor_of(turn)
    assert cursor is not None and cursor.total is None
    assert DormantList.unpack(_buttons(_page(50, 0, 7), DormantList())["下一页 ▶"]).of == 50
