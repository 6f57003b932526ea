"""/delegate: an approver who is away names a colleague to review in their place for a period.

Cards of stages entered during the period go to the delegate; the record names both people.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.i18n import N_
from governance.review import may_stand_in
from governance.roles import Actor, can_submit_draft
from handlers.callbacks import DelegPick
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.render import esc, when
from handlers.replies import edit_or_send
from models import people, routes
from models.people import User
from workflows import membership

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有单位人员可以设置代审。")
DAYS = (1, 3, 7, 14, 30)


@router.message(Command("delegate"))
async def delegate_cmd(
    message: Message,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = require(actor, can_submit_draft, NOT_ALLOWED)
    current = await routes.current_delegation(session, user_id=checked.user_id, now=clock.now())
    kb = Keyboard()
    if current is not None:
        other = await session.get(User, current.delegate_id)
        kb.button(text=_("结束代审"), callback_data=DelegPick(user_id=0))
        await message.answer(
            _("你已委托 {who} 代审至 {until}。").format(
                who=esc(other.name if other else ""), until=when(current.ends_at, settings.tz)
            ),
            reply_markup=kb.as_markup(),
        )
        return
    above = await routes.units_above(session, checked.unit_id)
    offered = 0
    for unit_id in [checked.unit_id, *above]:
        staff = await people.list_unit_users(session, unit_id=unit_id, include_inactive=False)
        for colleague, roles in staff:
            candidate = Actor(user_id=colleague.id or 0, unit_id=unit_id, roles=roles)
            if offered < 40 and may_stand_in(checked, candidate, units_above=above):
                kb.button(
                    text=colleague.name[:30], callback_data=DelegPick(user_id=colleague.id or 0)
                )
                offered += 1
    if not offered:
        await message.answer(
            _("本单位及上级单位暂无可代审的同事（须为审核人或单位管理员），请联系单位管理员。")
        )
        return
    kb.adjust(2)
    await message.answer(
        _("外出期间，请选择代你审核稿件的同事（须为本单位或上级单位的审核人、单位管理员）："),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(DelegPick.filter((F.user_id > 0) & (F.days == 0)))
async def pick_days(query: CallbackQuery, callback_data: DelegPick, actor: Actor | None) -> None:
    require(actor, can_submit_draft, NOT_ALLOWED)
    kb = Keyboard()
    for days in DAYS:
        kb.button(
            text=_("{n} 天").format(n=days),
            callback_data=DelegPick(user_id=callback_data.user_id, days=days),
        )
    kb.adjust(5)
    await query.answer()
    await edit_or_send(query, _("代审多长时间？"), reply_markup=kb.as_markup())


@router.callback_query(DelegPick.filter((F.user_id > 0) & (F.days > 0)))
async def set_delegate(
    query: CallbackQuery,
    callback_data: DelegPick,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = require(actor, can_submit_draft, NOT_ALLOWED)
    now = clock.now()
    row, other = await membership.delegate(
        session,
        actor=checked,
        who=user,
        delegate_id=callback_data.user_id,
        days=callback_data.days,
        now=now,
        tz=settings.tz,
    )
    until = when(row.ends_at, settings.tz)
    await query.answer(_("已设置"))
    await edit_or_send(
        query,
        _(
            "✅ 已委托 {who} 代审至 {until}。期间新到的审核卡片将发给 {who}，记录中会写明代审。"
        ).format(who=esc(other.name), until=until),
    )


@router.callback_query(DelegPick.filter(F.user_id == 0))
async def end(
    query: CallbackQuery,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = require(actor, can_submit_draft, NOT_ALLOWED)
    await membership.end_delegation(
        session, actor=checked, who=user, now=clock.now(), tz=settings.tz
    )
    await query.answer(_("已结束"))
    await edit_or_send(query, _("代审已结束，审核卡片将重新发给你本人。"))
