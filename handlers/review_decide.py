"""The buttons on an approver's card: 通过, 通过并附意见, 退回修改, 驳回, 查看记录.

Who may decide is checked against the database when the button is pressed; a card of an
earlier round or a decided review answers 已处理 and is redrawn with the current state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import StaleAction
from governance.review import Decision, ReviewStatus, Step
from governance.roles import Actor
from handlers.callbacks import RvAct
from handlers.guards import member
from handlers.render import error_text, esc
from handlers.replies import edit_or_send, reply_to
from handlers.review_notices import history_keyboard, record_text, review_status
from models import reviews
from workflows import reviews as review_flow
from workflows.reviews import Decided

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)

ASKS = {
    "comment": Decision.APPROVE,
    "return": Decision.RETURN,
    "reject": Decision.REJECT,
}


class DecideForm(StatesGroup):
    reason = State()


def decided_text(result: Decided) -> str:
    review = result.review
    head = {
        Decision.APPROVE: _("✅ 你已通过 {number}《{title}》{stage}。"),
        Decision.RETURN: _("↩️ 你已将 {number}《{title}》{stage}退回修改，已通知提交人。"),
        Decision.REJECT: _("❌ 你已驳回 {number}《{title}》{stage}，已通知提交人。"),
    }[result.decision].format(
        number=esc(review.number), title=esc(review.title), stage=esc(result.stage_name)
    )
    tail = {
        Step.WAIT: _("本环节需全部审核人通过，正在等待其他审核人。"),
        Step.NEXT_STAGE: _("稿件已进入下一环节：{stage}。"),
        Step.APPROVED: _("审核全部完成，已通知提交人可以发布。"),
        Step.RETURNED: "",
        Step.REJECTED: "",
    }[result.transition.step]
    if result.transition.step is Step.NEXT_STAGE:
        tail = tail.format(stage=esc(review.stage.name))
    return head + ("\n" + tail if tail else "")


async def _refresh_stale(
    query: CallbackQuery, session: AsyncSession, review_id: int, exc: StaleAction
) -> None:
    """已处理: say so, and redraw the pressed card with where the review is now."""
    await session.rollback()
    review = await reviews.get_review(session, review_id)
    await query.answer(error_text(exc)[:200], show_alert=True)
    state = review_status(review.status)
    if review.status == ReviewStatus.IN_REVIEW:
        state += _("（{stage}）").format(stage=esc(review.stage.name))
    await edit_or_send(
        query,
        _("{number}《{title}》已处理，当前状态：{state}。").format(
            number=esc(review.number), title=esc(review.title), state=state
        ),
        reply_markup=history_keyboard(review.id or 0, review.round),
    )


@router.callback_query(RvAct.filter(F.action == "approve"))
async def approve(
    query: CallbackQuery,
    callback_data: RvAct,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    try:
        result = await review_flow.decide(
            session,
            actor=checked,
            review_id=callback_data.review_id,
            round=callback_data.round,
            decision=Decision.APPROVE,
            comment=None,
            now=clock.now(),
            tz=settings.tz,
        )
    except StaleAction as exc:
        await _refresh_stale(query, session, callback_data.review_id, exc)
        return
    await query.answer(_("已通过"))
    await edit_or_send(
        query,
        decided_text(result),
        reply_markup=history_keyboard(result.review.id or 0, 0),
    )


@router.callback_query(RvAct.filter(F.action.in_(set(ASKS))))
async def ask_reason(
    query: CallbackQuery,
    callback_data: RvAct,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = member(actor)
    review = await reviews.get_review(session, callback_data.review_id)
    try:
        await review_flow.check_assignee(
            session, actor=checked, review=review, round=callback_data.round, now=clock.now()
        )
    except StaleAction as exc:
        await _refresh_stale(query, session, callback_data.review_id, exc)
        return
    await state.set_state(DecideForm.reason)
    await state.set_data(
        {
            "review_id": review.id,
            "round": callback_data.round,
            "action": callback_data.action,
            "card_message_id": query.message.message_id if query.message else None,
        }
    )
    prompt = {
        "comment": _("请输入审核意见（将记入审核记录）。发送 /cancel 取消。"),
        "return": _("请填写退回修改的理由（必填，提交人会看到）。发送 /cancel 取消。"),
        "reject": _("请填写驳回理由（必填，提交人会看到）。发送 /cancel 取消。"),
    }[callback_data.action]
    await query.answer()
    await reply_to(
        query,
        _("{number}《{title}》").format(number=esc(review.number), title=esc(review.title))
        + "\n"
        + prompt,
    )


@router.message(DecideForm.reason, F.chat.type == "private", F.text & ~F.text.startswith("/"))
async def got_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
    bot: Bot,
) -> None:
    checked = member(actor)
    data = await state.get_data()
    try:
        result = await review_flow.decide(
            session,
            actor=checked,
            review_id=data["review_id"],
            round=data["round"],
            decision=ASKS[data["action"]],
            comment=message.text,
            now=clock.now(),
            tz=settings.tz,
        )
    except StaleAction as exc:
        await session.rollback()
        await state.clear()
        await message.answer(error_text(exc))
        return
    await state.clear()
    text = decided_text(result)
    await message.answer(text)
    if data.get("card_message_id"):
        await bot.edit_message_text(
            text,
            chat_id=message.chat.id,
            message_id=data["card_message_id"],
            reply_markup=history_keyboard(result.review.id or 0, 0),
        )


@router.callback_query(RvAct.filter(F.action == "history"))
async def history(
    query: CallbackQuery,
    callback_data: RvAct,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    review = await reviews.get_review(session, callback_data.review_id)
    await reviews.visible_review(session, review=review, actor=checked)
    record = await reviews.load_record(session, review)
    await query.answer()
    await reply_to(query, record_text(record, settings.tz))
