"""The repost task card (任务卡): progress by unit with the accounts, paged, and its buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from governance.reposts import (
    METHOD_LABELS,
    PROGRESS_LABELS,
    TASK_STATUS_LABELS,
    Progress,
    TargetLine,
    TaskStatus,
    by_unit,
    totals,
)
from governance.roles import Actor
from handlers.callbacks import TaskClose, TaskList, TaskOpen, TaskRecord, TaskTarget
from handlers.keyboards import Keyboard
from handlers.render import esc, safe_link, short
from models.reposts import RepostTarget, RepostTask
from workflows.reposts import can_correct

PAGE = 15
ICONS = {Progress.DONE: "✅", Progress.PENDING: "⏳", Progress.OVERDUE: "❗"}


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%m-%d %H:%M") if moment else ""


def account_line(line: TargetLine, tz: ZoneInfo) -> str:
    text = f"{ICONS[line.progress]} #{line.account_id} {esc(line.account)}"
    if line.progress is Progress.DONE and line.method is not None:
        text += " · " + _(METHOD_LABELS[line.method])
        if line.matched_at:
            text += " " + _when(line.matched_at, tz)
        if line.late:
            text += " " + _("（逾期后完成）")
    elif line.progress is Progress.OVERDUE:
        text += " · " + _(PROGRESS_LABELS[Progress.OVERDUE])
    return text


def task_card(
    task: RepostTask,
    rows: Sequence[tuple[RepostTarget, TargetLine]],
    *,
    actor: Actor,
    tz: ZoneInfo,
    page: int = 0,
) -> tuple[str, InlineKeyboardMarkup]:
    """The card's text and buttons; ``page`` picks which accounts are listed."""
    lines = [line for _t, line in rows]
    count = totals(lines)
    link = safe_link(task.source_link)
    text = [
        _("<b>转载任务 #{id}</b>（{status}）").format(
            id=task.id, status=_(TASK_STATUS_LABELS[task.status])
        ),
        _("标题：{title}").format(title=esc(short(task.title, 120))),
    ]
    if link:
        text.append(_("原文链接：{link}").format(link=esc(link)))
    text += [
        _("截止时间：{when}；仅转标题{rule}").format(
            when=task.deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            rule=_("计为完成") if task.headline_counts else _("不计为完成"),
        ),
        _("进度：已转载 {done}，待转载 {pending}，逾期未转载 {overdue}（共 {n} 个账号）").format(
            done=count[Progress.DONE],
            pending=count[Progress.PENDING],
            overdue=count[Progress.OVERDUE],
            n=len(lines),
        ),
        "",
    ]
    for unit in by_unit(lines):
        text.append(
            _("· {unit}：已转载 {done}/{n}，待转载 {pending}，逾期 {overdue}").format(
                unit=esc(unit.unit),
                done=unit.done,
                n=unit.total,
                pending=unit.pending,
                overdue=unit.overdue,
            )
        )
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(page, 0), pages - 1)
    shown = rows[page * PAGE : (page + 1) * PAGE]
    current = None
    text.append("")
    for _target, line in shown:
        if line.unit != current:
            current = line.unit
            text.append(f"<b>{esc(line.unit)}</b>")
        text.append(account_line(line, tz))
    if pages > 1:
        text.append(_("第 {page}/{pages} 页").format(page=page + 1, pages=pages))
    kb = Keyboard()
    sizes: list[int] = []
    correct = can_correct(actor, task) and task.status is TaskStatus.OPEN
    if correct:
        for target, line in shown:
            kb.button(
                text=f"{ICONS[line.progress]} #{line.account_id} {line.account}"[:32],
                callback_data=TaskTarget(target_id=target.id or 0, action="open"),
            )
        sizes += [2] * (len(shown) // 2) + ([1] if len(shown) % 2 else [])
    nav = 0
    if page > 0:
        kb.button(text=_("◀ 上一页"), callback_data=TaskOpen(task_id=task.id or 0, page=page - 1))
        nav += 1
    if page < pages - 1:
        kb.button(text=_("下一页 ▶"), callback_data=TaskOpen(task_id=task.id or 0, page=page + 1))
        nav += 1
    if nav:
        sizes.append(nav)
    kb.button(text=_("🔄 刷新"), callback_data=TaskOpen(task_id=task.id or 0, page=page))
    kb.button(text=_("任务列表"), callback_data=TaskList())
    sizes.append(2)
    if can_correct(actor, task):
        kb.button(text=_("📜 记录"), callback_data=TaskRecord(task_id=task.id or 0))
        sizes.append(1)
    if correct:
        kb.button(text=_("结束任务"), callback_data=TaskClose(task_id=task.id or 0))
        kb.button(text=_("撤销任务"), callback_data=TaskClose(task_id=task.id or 0, cancel=True))
        sizes.append(2)
    kb.adjust(*sizes)
    return "\n".join(text), kb.as_markup()
