"""What the ledger import tells the admin (problems, changes, the success report with invitation
links), as chat text and workbooks; split from :mod:`handlers.ledger`, whose handlers decide."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.types import BufferedInputFile, InaccessibleMessage, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import gettext as _

from documents.ledgerbook import LedgerFile, table_workbook
from governance.errors import UserFacingError
from governance.ledger import RowProblem, Validation
from governance.ledgerlines import alias_line, update_line
from handlers.render import error_text, esc, when
from models.ledger import ImportResult

if TYPE_CHECKING:
    from bot.settings import Settings

SHOWN_PROBLEMS = 15
SHOWN_LINKS = 20
SHOWN_UNITS = 20
SHOWN_UPDATES = 10


def plain_error(exc: UserFacingError) -> str:
    """A refusal as plain text (for a workbook cell): translated, not HTML-escaped."""
    params = {k: _(v) if isinstance(v, str) else v for k, v in exc.params.items()}
    try:
        return _(exc.message).format(**params)
    except (KeyError, IndexError, ValueError):
        return _(exc.message)


def source_note(file: LedgerFile) -> str:
    """Which sheet was read and how many rows, so a wrong sheet or lost rows show at once."""
    if file.sheet is None:
        return _("已读取 {n} 行（含表头）。").format(n=file.rows_read)
    note = _("已读取工作表“{sheet}”：{n} 行（含表头）。").format(
        sheet=esc(file.sheet), n=file.rows_read
    )
    if file.sheets_skipped:
        note += _("隐藏的工作表未读取：{names}。").format(
            names="、".join(esc(n) for n in file.sheets_skipped)
        )
    return note


def updates_text(validation: Validation) -> str:
    lines = [
        _(
            "📝 台账中有 {n} 行与已登记的账号相同（平台和平台账号ID一致），将修改这些账号；"
            "确认前未作任何修改。"
        ).format(n=len(validation.updates))
    ]
    if validation.rows:
        lines.append(_("另有新账号 {n} 个，确认后一并导入。").format(n=len(validation.rows)))
    if validation.unchanged:
        lines.append(_("与已有记录相同、将跳过：{n} 行。").format(n=len(validation.unchanged)))
    lines.append("")
    lines += ["• " + esc(update_line(u, _)) for u in validation.updates[:SHOWN_UPDATES]]
    if len(validation.updates) > SHOWN_UPDATES:
        lines.append(
            _("……另有 {n} 个账号，见附件。").format(n=len(validation.updates) - SHOWN_UPDATES)
        )
    lines += alias_lines(validation)
    return "\n".join(lines)


def alias_lines(validation: Validation) -> list[str]:
    if not validation.aliases:
        return []
    shown = "；".join(esc(alias_line(a, _)) for a in validation.aliases[:SHOWN_UPDATES])
    more = _("等") if len(validation.aliases) > SHOWN_UPDATES else ""
    return ["", _("平台名称已按标准名称读取：{shown}{more}").format(shown=shown, more=more)]


def problems_text(result: ImportResult) -> str:
    validation = result.validation
    lines = [
        _("❌ 台账未导入，未作任何修改：共 {total} 行，其中 {bad} 行有问题（{n} 处）。").format(
            total=validation.total, bad=validation.bad_rows, n=len(validation.problems)
        )
    ]
    for problem in validation.problems[:SHOWN_PROBLEMS]:
        value = problem.value.replace("\n", " ")
        shown = f"（{esc(value[:20])}{'…' if len(value) > 20 else ''}）" if value else ""
        column = esc(problem.column) if problem.column else _("整行")
        lines.append(
            "• "
            + _("第 {row} 行").format(row=problem.row)
            + f" · {column}{shown}：{error_text(problem.error)}"
        )
    if len(validation.problems) > SHOWN_PROBLEMS:
        lines.append(
            _("……另有 {n} 处，见附件“台账错误清单.xlsx”。").format(
                n=len(validation.problems) - SHOWN_PROBLEMS
            )
        )
    if validation.unchanged:
        lines.append(
            _("另有 {n} 行与系统中已有记录相同，导入时会跳过。").format(n=len(validation.unchanged))
        )
    lines += alias_lines(validation)
    lines.append("")
    if validation.rows:
        lines.append(
            _("请修改后重新发送文件；也可以只导入其余 {n} 行有效数据。").format(
                n=len(validation.rows)
            )
        )
    else:
        lines.append(_("请修改后重新发送文件。"))
    return "\n".join(lines)


def problems_workbook(problems: list[RowProblem]) -> bytes:
    return table_workbook(
        _("错误清单"),
        [_("行号"), _("列"), _("填写内容"), _("问题")],
        [(p.row, p.column, p.value, plain_error(p.error)) for p in problems],
        widths=(8, 18, 30, 80),
    )


async def report_success(
    message: Message | InaccessibleMessage,
    result: ImportResult,
    *,
    bot: Bot,
    settings: Settings,
    note: str,
) -> None:
    validation = result.validation
    lines = [
        _("✅ 台账已导入：新增账号 {n} 个，修改账号 {m} 个。").format(
            n=len(result.accounts), m=len(result.updated)
        ),
        note,
    ]
    if validation.unchanged:
        lines.append(_("跳过与已有记录相同的 {n} 行。").format(n=len(validation.unchanged)))
    if validation.problems:
        lines.append(_("未导入有问题的 {n} 行。").format(n=validation.bad_rows))
    lines += alias_lines(validation)
    if result.units:
        names = "、".join(esc(u.name) for u in result.units[:SHOWN_UNITS])
        more = _("等") if len(result.units) > SHOWN_UNITS else ""
        lines.append(
            _("新增单位 {n} 个：{names}{more}").format(n=len(result.units), names=names, more=more)
        )
    links = [(p, await create_start_link(bot, p.invitation.token)) for p in result.pending]
    if links:
        lines += [
            "",
            _(
                "以下 {n} 位责任人尚未加入，请把各自的邀请链接转发给本人，"
                "本人通过链接加入后即成为相应账号的责任人（链接只能使用一次）："
            ).format(n=len(links)),
        ]
        for person, link in links[:SHOWN_LINKS]:
            lines.append(
                _("{name}（{unit}，{n} 个账号，{expires} 前有效）：{link}").format(
                    name=esc(person.name),
                    unit=esc(person.unit),
                    n=person.accounts,
                    expires=when(person.invitation.expires_at, settings.tz),
                    link=esc(link),
                )
            )
        if len(links) > SHOWN_LINKS:
            lines.append(_("全部邀请链接见附件。"))
    await message.answer("\n".join(lines))
    if len(links) > SHOWN_LINKS:
        data = table_workbook(
            _("邀请链接"),
            [_("单位"), _("姓名"), _("账号数"), _("邀请链接"), _("有效期至")],
            [
                (p.unit, p.name, p.accounts, link, when(p.invitation.expires_at, settings.tz))
                for p, link in links
            ],
            widths=(20, 12, 8, 60, 18),
        )
        await message.answer_document(BufferedInputFile(data, filename="责任人邀请链接.xlsx"))
