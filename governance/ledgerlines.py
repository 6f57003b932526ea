"""How a ledger import is described to people (one line per update or platform alias, the change
table): split from :mod:`governance.ledger`, which decides what an import does."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from governance.i18n import N_
from governance.ledger import AliasNote, RowUpdate
from governance.registry import PLATFORM_LABELS


def _same(text: str) -> str:
    return text


def _shown(value: str) -> str:
    value = value.replace("\n", " ")
    return (value[:40] + "…" if len(value) > 40 else value) or "（空）"


def update_line(update: RowUpdate, tr: Callable[[str], str] = _same) -> str:
    """``第 3 行 教育发布（微信公众号 jy_fabu）：责任人 李老师 → 张老师；…`` (plain text)."""
    current = update.current
    changes = "；".join(
        f"{tr(c.header)} {_shown(c.before)} → {_shown(c.after)}" for c in update.changes
    )
    return tr(N_("第 {row} 行 {name}（{platform} {ref}）：{changes}")).format(
        row=update.row.row,
        name=current.name,
        platform=tr(PLATFORM_LABELS[current.platform]),
        ref=current.platform_ref,
        changes=changes,
    )


def alias_line(alias: AliasNote, tr: Callable[[str], str] = _same) -> str:
    return tr(N_("第 {row} 行 “{written}” → {platform}")).format(
        row=alias.row, written=alias.written, platform=tr(PLATFORM_LABELS[alias.platform])
    )


def change_table(updates: Sequence[RowUpdate]) -> list[tuple[int, str, str, str, str, str]]:
    """One row per changed field: (row, account, platform id, field, before, after)."""
    return [
        (u.row.row, u.current.name, u.current.platform_ref, c.header, c.before, c.after)
        for u in updates
        for c in u.changes
    ]
