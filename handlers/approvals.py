"""Admins approve or reject registrations filed by unit managers (/pending and the card buttons)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.i18n import N_
from governance.roles import Actor, can_approve_registration
from handlers.callbacks import PendingList, RegDecision
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import account_card, esc, person
from handlers.replies import edit_or_send, reply_to
from models import accounts, people
from models.people import User
from workflows import registry

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)

NOT_ALLOWED = N_("只有管理员可以审批账号登记。")


class RejectForm(StatesGroup):
    reason = State()


REGISTRATIONS_PAGE = 5


async def show_registrations(
    target: Message | InaccessibleMessage,
    session: AsyncSession,
    settings: Settings,
    query: PendingList,
) -> None:
    """Admins' part of /pending (see handlers.review_queue): registrations to approve, a few
    cards at a time, then a button for the next few."""
    page = await accounts.pending_registrations(
        session, cursor=cursor_of(query), size=REGISTRATIONS_PAGE
    )
    if not page.rows:
        await target.answer(_("没有待审批的账号登记。"))
        return
    await target.answer(
        _("待审批的账号登记：{n} 个").format(n=page.total) + "，" + span_text(page, total=False)
    )
    for account in page.rows:
        unit = await session.get(people.Unit, account.unit_id)
        responsible, waiting = await accounts.responsible_of(session, account)
        applicant = await session.get(User, account.created_by)
        kb = Keyboard()
        kb.button(
            text=_("✅ 通过"),
            callback_data=RegDecision(
                account_id=account.id or 0, approve=True, version=account.version
            ),
        )
        kb.button(
            text=_("❌ 驳回"),
            callback_data=RegDecision(
                account_id=account.id or 0, approve=False, version=account.version
            ),
        )
        kb.adjust(2)
        await target.answer(
            _("申请人：{who}").format(who=person(applicant))
            + "\n"
            + account_card(
                account, unit=unit, responsible=responsible, tz=settings.tz, pending=waiting
            ),
            reply_markup=kb.as_markup(),
        )
    if page.has_next:
        nav = nav_row(page, query)
        await target.answer(
            _("还有 {n} 个待审批的登记。").format(n=page.total - page.before - len(page.rows)),
            reply_markup=nav.as_markup(),
        )


@router.callback_query(RegDecision.filter(F.approve))
async def approve(
    query: CallbackQuery,
    callback_data: RegDecision,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
) -> None:
    checked = require(actor, can_approve_registration, NOT_ALLOWED)
    now = clock.now()
    account = await registry.decide_registration(
        session,
        account_id=callback_data.account_id,
        approve=True,
        actor=checked,
        decider=user,
        now=now,
        version=callback_data.version,
    )
    await query.answer(_("已通过"))
    await edit_or_send(
        query,
        _("✅ 账号“{name}”（编号 {id}）已由你审核通过，状态：在用。").format(
            name=esc(account.name), id=account.id
        ),
    )


@router.callback_query(RegDecision.filter(~F.approve))
async def reject(
    query: CallbackQuery,
    callback_data: RegDecision,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    require(actor, can_approve_registration, NOT_ALLOWED)
    account = await accounts.get_account(session, callback_data.account_id)
    if account.status != "pending":
        await query.answer(_("该登记申请已处理。"), show_alert=True)
        return
    await state.set_state(RejectForm.reason)
    await state.set_data({"account_id": account.id, "version": callback_data.version})
    await query.answer()
    await reply_to(
        query,
        _("请填写驳回“{name}”的理由（申请人会看到）。发送 /cancel 取消。").format(
            name=esc(account.name)
        ),
    )


@router.message(RejectForm.reason, F.chat.type == "private", F.text & ~F.text.startswith("/"))
async def got_reject_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
) -> None:
    checked = require(actor, can_approve_registration, NOT_ALLOWED)
    data = await state.get_data()
    now = clock.now()
    account = await registry.decide_registration(
        session,
        account_id=data["account_id"],
        approve=False,
        actor=checked,
        decider=user,
        now=now,
        reason=message.text,
        version=data.get("version"),
    )
    await state.clear()
    await message.answer(
        _("已驳回“{name}”的登记申请，已通知申请人。").format(name=esc(account.name))
    )
