"""/pending: what waits for this person — drafts to review (oldest deadline first, with bulk
approval of the ones they opened) and, for admins, account registrations to approve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.roles import Actor, can_approve_registration
from handlers import approvals
from handlers.callbacks import PendingKind, PendingList, RvAct, RvBulk
from handlers.guards import member, require
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import esc, when
from handlers.replies import pressed_message, reply_to, turn_page
from handlers.review_notices import card_keyboard, card_text
from models import reviews
from models.paging import memory_page, micros
from models.people import User
from workflows import reviews as review_flow

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)


QUEUE_PAGE = 10


async def queue_view(
    session: AsyncSession, actor: Actor, query: PendingList, settings: Settings
) -> tuple[str, InlineKeyboardMarkup] | None:
    """A page of the drafts waiting for the reader (None: nothing waits)."""
    items = await reviews.queue(session, user_id=actor.user_id)
    if not items:
        return None
    page = memory_page(
        items,
        key_of=lambda i: micros(i.deadline),
        id_of=lambda i: i.review.id or 0,
        cursor=cursor_of(query),
        size=QUEUE_PAGE,
    )
    lines = [
        _("待你审核的稿件：{n} 件（按审核期限先后）").format(n=len(items))
        + "，"
        + span_text(page, total=False)
    ]
    kb = Keyboard()
    for item in page.rows:
        review = item.review
        seen = item.assignment.opened_at is not None
        lines.append(
            _("• {number}《{title}》{stage}，期限 {at}{seen}").format(
                number=esc(review.number),
                title=esc(review.title),
                stage=esc(review.stage.name),
                at=when(item.deadline, settings.tz),
                seen=_("（已查看）") if seen else "",
            )
        )
        kb.button(
            text=_("📄 查看 {number}").format(number=review.number),
            callback_data=RvAct(review_id=review.id or 0, round=review.round, action="open"),
        )
    opened = sum(1 for i in items if i.assignment.opened_at is not None)
    if opened:
        kb.button(text=_("✅ 批量通过已查看的 {n} 件").format(n=opened), callback_data=RvBulk())
    kb.adjust(1)
    kb.attach(nav_row(page, query))
    return "\n".join(lines), kb.as_markup()


@router.message(Command("pending"), F.chat.type == "private")
async def pending(
    message: Message, session: AsyncSession, actor: Actor | None, settings: Settings
) -> None:
    checked = member(actor)
    view = await queue_view(session, checked, PendingList(), settings)
    if view is not None:
        await message.answer(view[0], reply_markup=view[1])
    elif not checked.is_admin:
        await message.answer(_("没有待你审核的稿件。"))
    if checked.is_admin:
        if view is None:
            await message.answer(_("没有待你审核的稿件。"))
        await approvals.show_registrations(
            message, session, settings, PendingList(kind=PendingKind.REGISTRATIONS)
        )


@router.callback_query(PendingList.filter())
async def pending_page(
    query: CallbackQuery,
    callback_data: PendingList,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    await query.answer()
    if callback_data.kind is PendingKind.REGISTRATIONS:
        require(checked, can_approve_registration, approvals.NOT_ALLOWED)
        await approvals.show_registrations(pressed_message(query), session, settings, callback_data)
        return
    view = await queue_view(session, checked, callback_data, settings)
    if view is None:
        await turn_page(query, _("没有待你审核的稿件。"))
    else:
        await turn_page(query, view[0], reply_markup=view[1])


@router.callback_query(RvAct.filter(F.action == "open"))
async def open_draft(
    query: CallbackQuery,
    callback_data: RvAct,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
    bot: Bot,
) -> None:
    """Show the draft again (copies of the originals, then the card) and note it was opened."""
    checked = member(actor)
    assignment = await review_flow.mark_opened(
        session, actor=checked, review_id=callback_data.review_id, now=clock.now()
    )
    review = await reviews.get_review(session, callback_data.review_id)
    behalf = await session.get(User, assignment.on_behalf_of) if assignment.on_behalf_of else None
    card = await review_flow.card_notice(
        session, review, tz=settings.tz, on_behalf_of=behalf.name if behalf else ""
    )
    await query.answer()
    chat_id = query.message.chat.id if query.message else query.from_user.id
    for from_chat, message_id in card.copies:
        await bot.copy_message(chat_id, from_chat_id=from_chat, message_id=message_id)
    await bot.send_message(
        chat_id, card_text(card), reply_markup=card_keyboard(review.id or 0, review.round)
    )


@router.callback_query(RvBulk.filter())
async def bulk(
    query: CallbackQuery,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    done = await review_flow.bulk_approve(session, actor=checked, now=clock.now(), tz=settings.tz)
    await query.answer(_("已通过 {n} 件").format(n=len(done)))
    numbers = "、".join(esc(d.review.number) for d in done) or "—"
    await reply_to(
        query,
        _("✅ 已批量通过 {n} 件：{numbers}").format(n=len(done), numbers=numbers),
    )
