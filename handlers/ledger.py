"""/ledger (台账): export the registry, download the template, import a ledger file.

An admin imports by sending the bot an .xlsx or .csv file. Every row is checked first; a clean
file is filed at once, in one transaction. A file with problems changes nothing: the admin gets
each problem (row, column, what is wrong; as a workbook when the list is long) and may choose to
file only the valid rows. That button carries the file's digest; pressing it downloads the same
file again and validates it against the registry as it is then.

Rows that match a registered account (platform + platform id) change it. Such an import files
nothing at first: the admin gets a summary, each row's changes (and an .xlsx of them) and the
platform names that were read as another (微信 → 微信公众号), and confirms with a button that,
like the other, re-reads the same file and applies everything in one transaction.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Document, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from documents.ledgerbook import (
    LedgerFile,
    ledger_workbook,
    read_ledger_file,
    read_named_sheet,
    table_workbook,
)
from governance.clock import Clock
from governance.errors import InvalidInput, StaleAction
from governance.feedroutes import derive
from governance.i18n import N_
from governance.ledgerlines import change_table
from governance.ledgertable import MAX_FILE_BYTES, LedgerRow
from governance.roles import Actor, can_import_ledger
from governance.websiteledger import SHEET_WEBSITES, parse_website_rows
from handlers.callbacks import DialogCancel, LedgerApply, LedgerImportValid, LedgerMenu
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.ledgerreplies import (
    SHOWN_PROBLEMS,
    plain_error,
    problems_text,
    problems_workbook,
    report_success,
    source_note,
    updates_text,
)
from handlers.replies import pressed_message, reply_to
from models import ledger, websites
from models.ledger import FeedGuard, ImportResult
from workflows.websites import import_websites

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员和单位管理员可以使用台账。")
IMPORT_NOT_ALLOWED = N_("只有管理员可以导入台账。")
LEDGER_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".tsv", ".txt")


class LedgerImport(StatesGroup):
    valid_only = State()  # a report was shown; the admin may file only the valid rows
    confirm = State()  # the changes to registered accounts were shown; the admin may apply them


def _ledger_user(actor: Actor) -> bool:
    return actor.is_admin or actor.is_unit_manager


def _is_ledger_file(message: Message) -> bool:
    document = message.document
    return document is not None and (document.file_name or "").lower().endswith(LEDGER_SUFFIXES)


# --- the menu, export and template ----------------------------------------------------------


@router.message(Command("ledger"))
async def menu(message: Message, actor: Actor | None) -> None:
    checked = require(actor, _ledger_user, NOT_ALLOWED)
    kb = Keyboard()
    kb.button(text=_("📤 导出台账"), callback_data=LedgerMenu(action="export"))
    kb.button(text=_("📄 下载模板"), callback_data=LedgerMenu(action="template"))
    if can_import_ledger(checked):
        kb.button(text=_("📥 导入说明"), callback_data=LedgerMenu(action="help"))
        text = _(
            "台账（账号登记表）：可导出全部账号、下载空白模板；"
            "把填好的 .xlsx 或 .csv 文件直接发给我即可导入。"
        )
    else:
        text = _("台账（账号登记表）：可导出本单位的账号，或下载空白模板。")
    kb.adjust(2)
    await message.answer(text, reply_markup=kb.as_markup())


@router.callback_query(LedgerMenu.filter(F.action == "export"))
async def export(
    query: CallbackQuery,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = require(actor, _ledger_user, NOT_ALLOWED)
    rows = await ledger.export_rows(session, actor=checked)
    sites = await websites.ledger_rows(
        session, unit_id=None if checked.is_admin else checked.unit_id
    )
    data = await asyncio.to_thread(functools.partial(ledger_workbook, rows, tr=_, websites=sites))
    stamp = clock.now().astimezone(settings.tz).strftime("%Y%m%d")
    await query.answer()
    await pressed_message(query).answer_document(
        BufferedInputFile(data, filename=f"政务新媒体台账-{stamp}.xlsx"),
        caption=_("台账：共 {n} 个账号。修改后可直接发回导入（与已有记录相同的行会跳过）。").format(
            n=len(rows)
        ),
    )


@router.callback_query(LedgerMenu.filter(F.action == "template"))
async def template(query: CallbackQuery, actor: Actor | None) -> None:
    require(actor, _ledger_user, NOT_ALLOWED)
    data = await asyncio.to_thread(ledger_workbook, [], tr=_)
    await query.answer()
    await pressed_message(query).answer_document(
        BufferedInputFile(data, filename="台账模板.xlsx"),
        caption=_("台账模板：第二个工作表“填写说明”解释了每一列和可填的值。"),
    )


@router.callback_query(LedgerMenu.filter(F.action == "help"))
async def import_help(query: CallbackQuery, actor: Actor | None) -> None:
    require(actor, can_import_ledger, IMPORT_NOT_ALLOWED)
    await query.answer()
    await reply_to(
        query,
        _(
            "导入台账：\n"
            "1. 下载模板，按“填写说明”逐行填写（也可用导出的台账修改）；\n"
            "2. 保存为 .xlsx，或 CSV（UTF-8 或 GBK 编码），不超过 {mb} MB、{rows} 行；\n"
            "3. 把文件直接发给我。\n\n"
            "我会先逐行校验：全部无误才导入；有问题时列出每一处（行号、列、问题），"
            "你可以修改后重发，或选择只导入无误的行。单位按名称匹配，没有的自动新增；"
            "责任人按姓名在本单位匹配，尚未加入的会生成邀请链接，请转发给本人。"
        ).format(mb=MAX_FILE_BYTES // 1024 // 1024, rows=5000),
    )


# --- import ---------------------------------------------------------------------------------


async def _download(bot: Bot, document: Document) -> bytes:
    if document.file_size and document.file_size > MAX_FILE_BYTES:
        raise InvalidInput(
            N_("文件过大（{size} MB），台账文件不能超过 {max} MB。"),
            size=f"{document.file_size / 1024 / 1024:.1f}",
            max=MAX_FILE_BYTES // 1024 // 1024,
        )
    buffer = await bot.download(document.file_id)
    assert buffer is not None
    return buffer.read()


async def _import(
    session: AsyncSession,
    *,
    actor: Actor,
    data: bytes,
    name: str,
    valid_only: bool,
    clock: Clock,
    settings: Settings,
    feed_guard: FeedGuard,
    apply_updates: bool = False,
) -> tuple[ImportResult, LedgerFile]:
    file = await asyncio.to_thread(read_ledger_file, data, name)
    result = await ledger.import_ledger(
        session,
        actor=actor,
        table=file.rows,
        feed_guard=feed_guard,
        now=clock.now(),
        invite_ttl=timedelta(days=settings.invite_ttl_days),
        valid_only=valid_only,
        source=name,
        apply_updates=apply_updates,
        feed_for=lambda row: _derived_feed(row, settings),
    )
    return result, file


def _derived_feed(row: LedgerRow, settings: Settings) -> str | None:
    derived = derive(
        row.platform.value,
        row.platform_ref,
        base=settings.rsshub_base,
        key=settings.rsshub_access_key(),
    )
    return derived.url if derived is not None else None


async def _ask_confirmation(
    message: Message,
    result: ImportResult,
    state: FSMContext,
    *,
    file_id: str,
    name: str,
    digest: str,
    valid_only: bool,
) -> None:
    """The diff of a ledger that changes registered accounts, with 确认应用 / 取消."""
    validation = result.validation
    await state.set_state(LedgerImport.confirm)
    await state.set_data({"file_id": file_id, "name": name, "digest": digest})
    kb = Keyboard()
    kb.button(text=_("确认应用"), callback_data=LedgerApply(digest=digest, valid_only=valid_only))
    kb.button(text=_("取消"), callback_data=DialogCancel())
    kb.adjust(2)
    await message.answer(updates_text(validation), reply_markup=kb.as_markup())
    data = table_workbook(
        _("账号变更"),
        [_("行号"), _("账号名称"), _("平台账号ID或主页"), _("字段"), _("原值"), _("新值")],
        [(r, n, ref, _(f), b, a) for r, n, ref, f, b, a in change_table(validation.updates)],
        widths=(8, 20, 24, 18, 40, 40),
    )
    await message.answer_document(
        BufferedInputFile(data, filename="台账变更清单.xlsx"),
        caption=_("逐行变更清单：{n} 个账号。").format(n=len(validation.updates)),
    )


@router.message(StateFilter(None, LedgerImport.valid_only), F.document, _is_ledger_file)
async def upload(
    message: Message,
    session: AsyncSession,
    actor: Actor | None,
    state: FSMContext,
    clock: Clock,
    settings: Settings,
    bot: Bot,
    feed_guard: FeedGuard,
) -> None:
    checked = require(actor, can_import_ledger, IMPORT_NOT_ALLOWED)
    document = message.document
    assert document is not None
    name = document.file_name or "ledger"
    data = await _download(bot, document)
    result, file = await _import(
        session,
        actor=checked,
        data=data,
        name=name,
        valid_only=False,
        clock=clock,
        settings=settings,
        feed_guard=feed_guard,
    )
    await state.clear()
    note = source_note(file)
    if result.imported:
        note += await _websites_from(session, actor=checked, data=data, clock=clock)
        await report_success(message, result, bot=bot, settings=settings, note=note)
        return
    validation = result.validation
    digest = hashlib.sha256(data).hexdigest()[:16]
    if result.needs_confirmation:
        await _ask_confirmation(
            message,
            result,
            state,
            file_id=document.file_id,
            name=name,
            digest=digest,
            valid_only=False,
        )
        return
    if validation.clean:
        sites = await _websites_from(session, actor=checked, data=data, clock=clock)
        await message.answer(
            note
            + "\n"
            + _("没有需要导入的新账号：{n} 行与系统中已有记录相同，未作修改。").format(
                n=len(validation.unchanged)
            )
            + sites
        )
        return
    kb = Keyboard()
    if validation.rows or validation.updates:
        await state.set_state(LedgerImport.valid_only)
        await state.set_data({"file_id": document.file_id, "name": name, "digest": digest})
        kb.button(
            text=_("仅导入 {n} 行有效数据").format(
                n=len(validation.rows) + len(validation.updates)
            ),
            callback_data=LedgerImportValid(digest=digest),
        )
        kb.button(text=_("取消"), callback_data=DialogCancel())
        kb.adjust(1)
    await message.answer(note + "\n" + problems_text(result), reply_markup=kb.as_markup())
    if len(validation.problems) > SHOWN_PROBLEMS:
        await message.answer_document(
            BufferedInputFile(problems_workbook(validation.problems), filename="台账错误清单.xlsx"),
            caption=_("完整的错误清单：共 {n} 处。").format(n=len(validation.problems)),
        )


async def _websites_from(session: AsyncSession, *, actor: Actor, data: bytes, clock: Clock) -> str:
    """File the 网站 sheet's new websites and columns (after the accounts, whose units they may
    name); a line for the reply, empty when the file has no such sheet."""
    table = await asyncio.to_thread(read_named_sheet, data, SHEET_WEBSITES)
    if not table:
        return ""
    rows, problems = parse_website_rows(table)
    done = await import_websites(session, actor=actor, rows=rows, now=clock.now())
    problems += done.problems
    line = "\n" + _("网站工作表：新增网站 {w} 个、栏目 {c} 个，{u} 行与已有记录相同。").format(
        w=done.websites, c=done.columns, u=done.unchanged
    )
    for problem in problems[:SHOWN_PROBLEMS]:
        line += "\n" + _("网站第 {row} 行：{error}").format(
            row=problem.row, error=plain_error(problem.error)
        )
    return line


async def _saved_file(bot: Bot, state: FSMContext, digest: str) -> tuple[dict[str, Any], bytes]:
    """The file this dialog was about, downloaded again; stale when it is not the same file."""
    saved = await state.get_data()
    if saved.get("digest") != digest:
        raise StaleAction(N_("该导入已过期，请重新发送台账文件。"))
    buffer = await bot.download(saved["file_id"])
    assert buffer is not None
    data = buffer.read()
    if hashlib.sha256(data).hexdigest()[:16] != digest:
        raise StaleAction(N_("该导入已过期，请重新发送台账文件。"))
    return saved, data


@router.callback_query(LedgerImport.valid_only, LedgerImportValid.filter())
async def import_valid_rows(
    query: CallbackQuery,
    callback_data: LedgerImportValid,
    session: AsyncSession,
    actor: Actor | None,
    state: FSMContext,
    clock: Clock,
    settings: Settings,
    bot: Bot,
    feed_guard: FeedGuard,
) -> None:
    checked = require(actor, can_import_ledger, IMPORT_NOT_ALLOWED)
    saved, data = await _saved_file(bot, state, callback_data.digest)
    result, file = await _import(
        session,
        actor=checked,
        data=data,
        name=saved.get("name", "ledger"),
        valid_only=True,
        clock=clock,
        settings=settings,
        feed_guard=feed_guard,
    )
    await state.clear()
    await query.answer()
    if result.needs_confirmation:
        await _ask_confirmation(
            query.message,  # type: ignore[arg-type]
            result,
            state,
            file_id=saved["file_id"],
            name=saved.get("name", "ledger"),
            digest=callback_data.digest,
            valid_only=True,
        )
        return
    if not result.imported:
        await reply_to(query, _("没有可导入的有效行，未作修改。"))
        return
    note = source_note(file) + await _websites_from(session, actor=checked, data=data, clock=clock)
    await report_success(
        query.message,  # type: ignore[arg-type]
        result,
        bot=bot,
        settings=settings,
        note=note,
    )


@router.callback_query(LedgerImport.confirm, LedgerApply.filter())
async def apply_changes(
    query: CallbackQuery,
    callback_data: LedgerApply,
    session: AsyncSession,
    actor: Actor | None,
    state: FSMContext,
    clock: Clock,
    settings: Settings,
    bot: Bot,
    feed_guard: FeedGuard,
) -> None:
    """The admin saw the diff: file the same file again, now applying the changes."""
    checked = require(actor, can_import_ledger, IMPORT_NOT_ALLOWED)
    saved, data = await _saved_file(bot, state, callback_data.digest)
    result, file = await _import(
        session,
        actor=checked,
        data=data,
        name=saved.get("name", "ledger"),
        valid_only=callback_data.valid_only,
        clock=clock,
        settings=settings,
        feed_guard=feed_guard,
        apply_updates=True,
    )
    await state.clear()
    await query.answer()
    if not result.imported:
        await reply_to(query, _("台账已有变化，未作修改，请重新发送台账文件。"))
        return
    await report_success(
        pressed_message(query), result, bot=bot, settings=settings, note=source_note(file)
    )
