"""/submit: choose an account, send the draft (text, photos, videos, files, albums) until
完成, give a title and an optional planned time, see the pre-check, then submit or fix and
resend. Returned drafts come back the same way as a new version.

The draft's messages are rows (``review_parts``), not dialog data: album parts arrive as
separate updates handled concurrently, and rows neither lose one nor vanish on a restart.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from documents.drafts.child import DraftReader
from governance.clock import Clock
from governance.drafttext import REFUSAL_MESSAGES, Refusal
from governance.errors import InvalidInput, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.precheck import blocking
from governance.quality import CheckerHolder
from governance.review import ReviewStatus, parse_planned, validate_title
from governance.roles import Actor, can_submit_draft
from handlers.callbacks import RvMine, SubAccount, SubStep
from handlers.draft_files import document_ack, read_draft_file
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import esc, platform_label, when
from handlers.replies import edit_or_send, pressed_message, reply_to, turn_page
from handlers.review_notices import findings_text
from models import reviews
from models.accounts import Account
from models.people import User
from workflows import reviews as review_flow
from workflows.reviews import card_findings

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有单位人员可以提交送审稿。")
ACCOUNT_PAGE = 20  # accounts per page of the /submit account picker
TEXT = F.text & ~F.text.startswith("/")
DOCUMENT_TYPES = (".docx", ".doc", ".pdf", ".wps")
MACRO_TYPES = (".docm", ".dotm", ".xlsm", ".pptm")
PARTS_MAX = 30


class SubmitForm(StatesGroup):
    account = State()
    collect = State()
    title = State()
    planned = State()
    confirm = State()


def _step_kb(*items: tuple[str, str]) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for action, label in items:
        kb.button(text=label, callback_data=SubStep(action=action))
    kb.adjust(1)
    return kb.as_markup()


def _collect_prompt() -> tuple[str, InlineKeyboardMarkup]:
    return (
        _(
            "请发送稿件内容：文字、图片、视频或文件（.docx、.pdf），可以分多条发送（含相册）。"
            "发送完毕后点击“完成”。"
        ),
        _step_kb(("done", _("✅ 完成")), ("cancel", _("取消"))),
    )


@router.message(Command("submit"))
async def submit_cmd(
    message: Message, state: FSMContext, session: AsyncSession, actor: Actor | None
) -> None:
    checked = require(actor, can_submit_draft, NOT_ALLOWED)
    text, markup = await _account_picker(session, checked, SubAccount(account_id=0))
    if markup is None:
        await message.answer(text)
        return
    await state.clear()
    await state.set_state(SubmitForm.account)
    await state.set_data({"draft_key": secrets.token_hex(8)})
    await message.answer(text, reply_markup=markup)


async def _account_picker(
    session: AsyncSession, actor: Actor, view: SubAccount
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The unit's live accounts to submit for, a page at a time (None: there are none)."""
    page = await review_flow.submittable_accounts(
        session, actor=actor, cursor=cursor_of(view), size=ACCOUNT_PAGE
    )
    if not page.total:
        return _("本单位还没有在用的账号，无法提交送审稿。"), None
    kb = Keyboard()
    for account in page.rows:
        kb.button(
            text=f"{account.name}（{platform_label(account.platform)}）",
            callback_data=SubAccount(account_id=account.id or 0),
        )
    kb.adjust(1)
    kb.attach(nav_row(page, SubAccount(account_id=0)))
    cancel = Keyboard()
    cancel.button(text=_("取消"), callback_data=SubStep(action="cancel"))
    kb.attach(cancel)
    text = _("提交送审稿（先审后发）。请选择发布账号：") + "\n" + span_text(page)
    return text, kb.as_markup()


@router.callback_query(SubmitForm.account, SubAccount.filter())
async def got_account(
    query: CallbackQuery,
    callback_data: SubAccount,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    checked = require(actor, can_submit_draft, NOT_ALLOWED)
    if not callback_data.account_id:
        text, markup = await _account_picker(session, checked, callback_data)
        await query.answer()
        await turn_page(query, text, reply_markup=markup)
        return
    account = await review_flow.check_can_submit(
        session, actor=checked, account_id=callback_data.account_id
    )
    await state.update_data(account_id=account.id)
    await state.set_state(SubmitForm.collect)
    text, kb = _collect_prompt()
    await query.answer()
    await reply_to(
        query,
        _("账号：{name}").format(name=esc(account.name)) + "\n" + text,
        reply_markup=kb,
    )


def _part_of(message: Message) -> tuple[str, str | None, str | None]:
    """(kind, text or caption, file name); unsupported content is refused with a reason."""
    if message.text:
        return "text", message.text, None
    caption = message.caption
    if message.photo:
        return "photo", caption, None
    if message.video:
        return "video", caption, message.video.file_name
    if message.document:
        name = message.document.file_name or ""
        suffix = PurePosixPath(name.lower()).suffix
        if suffix in MACRO_TYPES:
            raise InvalidInput(REFUSAL_MESSAGES[Refusal.MACRO])
        if suffix not in DOCUMENT_TYPES:
            raise InvalidInput(N_("只接受 .docx、.doc、.pdf、.wps 格式的文件，请转换后重新发送。"))
        return "document", caption, name
    raise InvalidInput(N_("只能发送文字、图片、视频或文件（.docx、.pdf）。"))


@router.message(SubmitForm.collect, ~F.text.startswith("/"))
async def got_part(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    clock: Clock,
    bot: Bot,
    drafts: DraftReader,
) -> None:
    kind, text, file_name = _part_of(message)
    data = await state.get_data()
    held = await reviews.draft_parts(session, owner_id=user.id or 0, draft_key=data["draft_key"])
    if len(held) >= PARTS_MAX:
        raise InvalidInput(N_("一篇稿件最多 {max} 条消息，请点“完成”。"), max=PARTS_MAX)
    extracted = None
    if kind == "document" and message.document is not None:
        extracted = await read_draft_file(bot, message.document, drafts)
    first = await reviews.add_part(
        session,
        owner_id=user.id or 0,
        draft_key=data["draft_key"],
        chat_id=message.chat.id,
        message_id=message.message_id,
        kind=kind,
        text=text,
        file_name=file_name,
        media_group_id=message.media_group_id,
        now=clock.now(),
        extracted=extracted,
    )
    if extracted is not None:
        ack = document_ack(file_name or "", extracted)
        ack += "\n" + _("可以继续发送，发送完毕请点击“完成”。")
        await message.answer(ack, reply_markup=_step_kb(("done", _("✅ 完成"))))
    elif first:
        await message.answer(
            _("已收到。可以继续发送，发送完毕请点击“完成”。"),
            reply_markup=_step_kb(("done", _("✅ 完成"))),
        )


async def _show_precheck(
    target: Message | InaccessibleMessage,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    checker: CheckerHolder,
    settings: Settings,
) -> None:
    data = await state.get_data()
    checked = await review_flow.precheck_draft(
        session,
        owner_id=user.id or 0,
        draft_key=data["draft_key"],
        title=data["title"],
        checker=checker.current,
        max_chars=settings.review_draft_max_chars,
    )
    account = await session.get(Account, data["account_id"])
    counts: dict[str, int] = {}
    for part in checked.parts:
        counts[part.kind] = counts.get(part.kind, 0) + 1
    files = [esc(p.file_name) for p in checked.parts if p.kind == "document" and p.file_name]
    planned = datetime.fromisoformat(data["planned_at"]) if data.get("planned_at") else None
    lines = [
        _("请核对送审稿：") if not data.get("review_id") else _("请核对修改稿："),
        _("账号：{name}").format(name=esc(account.name if account else "")),
        _("标题：{title}").format(title=esc(data["title"])),
        _("计划发布：{at}").format(at=when(planned, settings.tz) if planned else _("未设定")),
        _("内容：文字 {text} 条，图片 {photo} 张，视频 {video} 个，文件 {document} 个").format(
            text=counts.get("text", 0),
            photo=counts.get("photo", 0),
            video=counts.get("video", 0),
            document=counts.get("document", 0),
        ),
    ]
    if files:
        lines.append(_("文件：{names}").format(names="、".join(files)))
    found = checked.findings
    shown = card_findings(checked.text, found, places=checked.places)
    lines += ["", findings_text(shown, len(found))]
    await state.set_state(SubmitForm.confirm)
    if blocking(found):
        kb = _step_kb(("resend", _("✏️ 重新发送稿件")), ("cancel", _("取消")))
    else:
        submit_label = _("⚠️ 仍然提交（附预检结果）") if found else _("✅ 提交送审")
        kb = _step_kb(
            ("submit", submit_label), ("resend", _("✏️ 修改后重发")), ("cancel", _("取消"))
        )
        if found:
            lines.append(_("可以修改后重新发送，也可以附上预检结果仍然提交，由审核人判断。"))
    await target.answer("\n".join(lines), reply_markup=kb)


@router.callback_query(SubmitForm.collect, SubStep.filter(F.action == "done"))
async def done(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    checker: CheckerHolder,
    settings: Settings,
) -> None:
    data = await state.get_data()
    parts = await reviews.draft_parts(session, owner_id=user.id or 0, draft_key=data["draft_key"])
    if not parts:
        raise InvalidInput(N_("还没有收到稿件内容，请先发送文字、图片或文件。"))
    await query.answer()
    message = pressed_message(query)
    if "title" in data:  # fixing and resending, or a new version of a returned draft
        await _show_precheck(message, state, session, user, checker, settings)
        return
    await state.set_state(SubmitForm.title)
    await message.answer(_("请输入稿件标题（2–100 字）。发送 /cancel 可取消。"))


@router.message(SubmitForm.title, TEXT)
async def got_title(message: Message, state: FSMContext) -> None:
    await state.update_data(title=validate_title(message.text))
    await state.set_state(SubmitForm.planned)
    await message.answer(
        _("计划什么时候发布？请按“2026-01-06 09:00”的格式输入；到时仍未审结的稿件将过期。"),
        reply_markup=_step_kb(("notime", _("不设定"))),
    )


@router.message(SubmitForm.planned, TEXT)
async def got_planned(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    clock: Clock,
    checker: CheckerHolder,
    settings: Settings,
) -> None:
    planned = parse_planned(message.text, tz=settings.tz, now=clock.now())
    await state.update_data(planned_at=planned.isoformat())
    await _show_precheck(message, state, session, user, checker, settings)


@router.callback_query(SubmitForm.planned, SubStep.filter(F.action == "notime"))
async def no_planned(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    checker: CheckerHolder,
    settings: Settings,
) -> None:
    await state.update_data(planned_at=None)
    await query.answer()
    await _show_precheck(pressed_message(query), state, session, user, checker, settings)


@router.callback_query(SubmitForm.confirm, SubStep.filter(F.action == "submit"))
async def confirm(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    checker: CheckerHolder,
    settings: Settings,
) -> None:
    checked = require(actor, can_submit_draft, NOT_ALLOWED)
    data = await state.get_data()
    now = clock.now()
    try:
        if data.get("review_id"):
            review = await review_flow.resubmit(
                session,
                actor=checked,
                review_id=data["review_id"],
                draft_key=data["draft_key"],
                checker=checker.current,
                max_chars=settings.review_draft_max_chars,
                now=now,
                tz=settings.tz,
            )
        else:
            planned = data.get("planned_at")
            review = await review_flow.submit(
                session,
                actor=checked,
                account_id=data["account_id"],
                title=data["title"],
                planned_at=datetime.fromisoformat(planned) if planned else None,
                draft_key=data["draft_key"],
                checker=checker.current,
                max_chars=settings.review_draft_max_chars,
                prefix=settings.review_number_prefix,
                now=now,
                tz=settings.tz,
            )
        await session.flush()  # a second click's duplicate shows here, not at the reply
    except IntegrityError:
        raise StaleAction(N_("该稿件已提交，请勿重复点击。")) from None
    await state.clear()
    await query.answer(_("已送审"))
    version = _("（第 {n} 版）").format(n=review.draft_version) if review.draft_version > 1 else ""
    await edit_or_send(
        query,
        _("✅ 已送审{version}，审核编号 {number}。进度会通知你，也可发送 /mine 查看。").format(
            version=version, number=esc(review.number)
        ),
    )


@router.callback_query(SubmitForm.confirm, SubStep.filter(F.action == "resend"))
async def resend(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User
) -> None:
    data = await state.get_data()
    await reviews.clear_parts(session, owner_id=user.id or 0, draft_key=data["draft_key"])
    await state.set_state(SubmitForm.collect)
    text, kb = _collect_prompt()
    await query.answer()
    await reply_to(query, _("请重新发送修改后的完整稿件。") + "\n" + text, reply_markup=kb)


@router.callback_query(SubStep.filter(F.action == "cancel"))
async def cancel(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, user: User
) -> None:
    data = await state.get_data()
    if data.get("draft_key"):
        await reviews.clear_parts(session, owner_id=user.id or 0, draft_key=data["draft_key"])
    await state.clear()
    await query.answer(_("已取消"))
    await edit_or_send(query, _("送审已取消，未提交任何内容。"))


@router.callback_query(RvMine.filter(F.action == "resubmit"))
async def start_resubmission(
    query: CallbackQuery,
    callback_data: RvMine,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    checked = require(actor, can_submit_draft, NOT_ALLOWED)
    review = await reviews.get_review(session, callback_data.review_id)
    if review.submitter_id != checked.user_id:
        raise PermissionDenied(N_("只有提交人可以提交修改稿。"))
    if review.status != ReviewStatus.RETURNED:
        raise StaleAction(N_("该稿件当前不是“已退回修改”状态，不能提交修改稿。"))
    data: dict[str, Any] = {
        "draft_key": secrets.token_hex(8),
        "review_id": review.id,
        "account_id": review.account_id,
        "title": review.title,
        "planned_at": review.planned_at.isoformat() if review.planned_at else None,
    }
    await state.clear()
    await state.set_data(data)
    await state.set_state(SubmitForm.collect)
    text, kb = _collect_prompt()
    await query.answer()
    await reply_to(
        query,
        _(
            "提交 {number} 的修改稿：请发送修改后的完整稿件（将作为新版本，审核人可看到修改之处）。"
        ).format(number=esc(review.number))
        + "\n"
        + text,
        reply_markup=kb,
    )
