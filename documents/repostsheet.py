"""The report's 转载任务 sheet: completion rate per unit and per account, then each task's
accounts with how and when they reposted. Only written when the period has repost tasks."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from documents.ledgerbook import Cell, Translate, _header, _put
from governance.i18n import N_
from governance.reporting import Report
from governance.reposts import METHOD_LABELS, PROGRESS_LABELS, Completion, Progress, completion

SHEET_REPOSTS = N_("转载任务")


def _section(sheet: Worksheet, row: int, title: str) -> int:
    _put(sheet, row, 1, title)
    sheet.cell(row=row, column=1).font = Font(bold=True)
    return row + 1


def _rate(item: Completion) -> str:
    return f"{item.rate:.0%}"


def overdue_lines(report: Report, tr: Translate, *, shown: int = 5) -> list[str]:
    """One line per task with accounts overdue: for the chat summary."""
    lines = []
    for task in report.reposts:
        late = [line for line in task.lines if line.progress is Progress.OVERDUE]
        if not late:
            continue
        names = "、".join(line.account for line in late[:shown])
        more = tr(N_("等")) if len(late) > shown else ""
        lines.append(
            tr(N_("转载任务 #{id}《{title}》逾期未转载 {n} 个：{names}{more}。")).format(
                id=task.task_id, title=task.title[:40], n=len(late), names=names, more=more
            )
        )
    return lines


def fill_reposts(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> None:
    headers = [
        tr(N_("单位")),
        tr(N_("账号")),
        tr(N_("任务数")),
        tr(N_("已转载")),
        tr(N_("逾期未转载")),
        tr(N_("完成率")),
    ]
    _header(sheet, headers)
    row = _section(sheet, 2, tr(N_("各单位完成率")))
    for per in ("unit", "account"):
        if per == "account":
            row = _section(sheet, row + 1, tr(N_("各账号完成率")))
        for item in completion(report.reposts, per=per):
            name = "" if per == "unit" else item.name
            values: tuple[Cell, ...] = (
                item.unit,
                name,
                item.assigned,
                item.done,
                item.overdue,
                _rate(item),
            )
            for column, value in enumerate(values, start=1):
                _put(sheet, row, column, value)
            row += 1
    row = _section(sheet, row + 1, tr(N_("任务明细")))
    detail = [
        tr(N_("任务")),
        tr(N_("标题")),
        tr(N_("截止时间")),
        tr(N_("单位")),
        tr(N_("账号")),
        tr(N_("状态")),
        tr(N_("识别方式")),
        tr(N_("转载时间")),
        tr(N_("转载链接")),
    ]
    for column, title in enumerate(detail, start=1):
        _put(sheet, row, column, title)
        sheet.cell(row=row, column=column).font = Font(bold=True)
    row += 1
    for task in report.reposts:
        deadline = task.deadline.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        for line in task.lines:
            values = (
                f"#{task.task_id}",
                task.title,
                deadline,
                line.unit,
                f"#{line.account_id} {line.account}",
                tr(PROGRESS_LABELS[line.progress]),
                tr(METHOD_LABELS[line.method]) if line.method else "",
                line.matched_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                if line.matched_at
                else "",
                line.link or "",
            )
            for column, value in enumerate(values, start=1):
                _put(sheet, row, column, value)
            row += 1
