"""/mine (my drafts, withdraw), /review <number> (the full record) and /export (admins: the
printable 发布审核单 of one review, or a spreadsheet of every review in a period)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InaccessibleMessage, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from documents.pdf import to_pdf
from governance.clock import Clock
from governance.i18n import N_
from governance.review import OPEN_STATUSES, ReviewStatus, parse_review_number
from governance.roles import Actor, can_export_reviews, can_submit_draft
from handlers.callbacks import ExportPick, RvMine
from handlers.guards import member, require
from handlers.keyboards import Keyboard
from handlers.render import esc, when
from handlers.replies import edit_or_send, pressed_message, reply_to
from handlers.review_forms import review_form_docx, reviews_xlsx
from handlers.review_notices import record_text, review_status
from models import reviews
from workflows import reviews as review_flow

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

EXPORT_DENIED = N_("只有管理员可以导出审核记录。")
PERIODS = (7, 30, 90, 365)


@router.message(Command("mine"))
async def mine(
    message: Message, session: AsyncSession, actor: Actor | None, settings: Settings
) -> None:
    checked = require(actor, can_submit_draft, N_("只有单位人员可以提交送审稿。"))
    rows = await reviews.mine(session, user_id=checked.user_id)
    if not rows:
        await message.answer(_("你还没有提交过送审稿。发送 /submit 提交。"))
        return
    lines = [_("我的送审稿（最近 {n} 件）：").format(n=len(rows))]
    kb = Keyboard()
    for review in rows:
        state = review_status(review.status)
        if review.status == ReviewStatus.IN_REVIEW:
            state += _("（{stage}）").format(stage=esc(review.stage.name))
        at = when(review.created_at, settings.tz)
        lines.append(f"• {esc(review.number)}《{esc(review.title)}》{state} · {at}")
        kb.button(text=review.number, callback_data=RvMine(review_id=review.id or 0, action="open"))
    kb.adjust(3)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


@router.callback_query(RvMine.filter(F.action.in_({"open", "history"})))
async def open_review(
    query: CallbackQuery,
    callback_data: RvMine,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    review = await reviews.get_review(session, callback_data.review_id)
    await reviews.visible_review(session, review=review, actor=checked)
    record = await reviews.load_record(session, review)
    kb = Keyboard()
    mine_ = review.submitter_id == checked.user_id
    if mine_ and review.status in OPEN_STATUSES:
        kb.button(
            text=_("🗂 撤回"), callback_data=RvMine(review_id=review.id or 0, action="withdraw")
        )
    if mine_ and review.status == ReviewStatus.RETURNED:
        kb.button(
            text=_("✏️ 提交修改稿"),
            callback_data=RvMine(review_id=review.id or 0, action="resubmit"),
        )
    if can_export_reviews(checked):
        kb.button(
            text=_("🖨 导出审核单"), callback_data=RvMine(review_id=review.id or 0, action="export")
        )
    kb.adjust(2)
    await query.answer()
    await reply_to(
        query,
        record_text(record, settings.tz),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(RvMine.filter(F.action == "withdraw"))
async def withdraw(
    query: CallbackQuery,
    callback_data: RvMine,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = member(actor)
    review = await review_flow.withdraw(
        session, actor=checked, review_id=callback_data.review_id, now=clock.now()
    )
    await query.answer(_("已撤回"))
    await edit_or_send(
        query,
        _("🗂 已撤回送审稿 {number}《{title}》，审核人的卡片已作废。").format(
            number=esc(review.number), title=esc(review.title)
        ),
    )


@router.message(Command("review"))
async def show_review(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    review = await reviews.by_number(session, parse_review_number(command.args or ""))
    await reviews.visible_review(session, review=review, actor=checked)
    record = await reviews.load_record(session, review)
    kb = Keyboard()
    if can_export_reviews(checked):
        kb.button(
            text=_("🖨 导出审核单"), callback_data=RvMine(review_id=review.id or 0, action="export")
        )
    await message.answer(record_text(record, settings.tz), reply_markup=kb.as_markup())


async def _send_form(
    message: Message | InaccessibleMessage,
    session: AsyncSession,
    review_id: int,
    settings: Settings,
) -> None:
    review = await reviews.get_review(session, review_id)
    record = await reviews.load_record(session, review)
    data = review_form_docx(record, settings.tz)
    pdf = await asyncio.to_thread(to_pdf, data, suffix=".docx")
    name = f"{review.number}-发布审核单"
    if pdf is not None:
        await message.answer_document(
            BufferedInputFile(pdf, filename=f"{name}.pdf"),
            caption=_("发布审核单 {number}（PDF，可直接打印）").format(number=esc(review.number)),
        )
    caption = _("发布审核单 {number}").format(number=esc(review.number))
    if pdf is None:
        caption += _("（本机未安装 LibreOffice，无法生成 PDF，请打印此 Word 文件）")
    await message.answer_document(BufferedInputFile(data, filename=f"{name}.docx"), caption=caption)


@router.callback_query(RvMine.filter(F.action == "export"))
async def export_one(
    query: CallbackQuery,
    callback_data: RvMine,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    require(actor, can_export_reviews, EXPORT_DENIED)
    await query.answer()
    await _send_form(pressed_message(query), session, callback_data.review_id, settings)


@router.message(Command("export"))
async def export(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    require(actor, can_export_reviews, EXPORT_DENIED)
    if command.args:
        review = await reviews.by_number(session, parse_review_number(command.args))
        await _send_form(message, session, review.id or 0, settings)
        return
    kb = Keyboard()
    for days in PERIODS:
        kb.button(text=_("近 {n} 天").format(n=days), callback_data=ExportPick(days=days))
    kb.adjust(4)
    await message.answer(
        _("导出审核记录：选择时间段生成表格；导出单篇审核单请发送 /export 审核编号。"),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(ExportPick.filter())
async def export_period(
    query: CallbackQuery,
    callback_data: ExportPick,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    require(actor, can_export_reviews, EXPORT_DENIED)
    end = clock.now()
    start = end - timedelta(days=max(1, min(callback_data.days, 3660)))
    records = [
        await reviews.load_record(session, r)
        for r in await reviews.between(session, start=start, end=end + timedelta(seconds=1))
    ]
    data = reviews_xlsx(records, settings.tz)
    await query.answer()
    stamp = end.astimezone(settings.tz).strftime("%Y%m%d")
    await pressed_message(query).answer_document(
        BufferedInputFile(data, filename=f"审核记录-{stamp}.xlsx"),
        caption=_("近 {n} 天的审核记录：{count} 件").format(
            n=callback_data.days, count=len(records)
        ),
    )
