"""/invite and /invites: one-time deep links that bring a colleague into a unit with a role."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.deep_linking import create_start_link
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import PermissionDenied
from governance.i18n import N_
from governance.roles import Actor, Role, can_invite, invitable_roles
from handlers.callbacks import (
    DialogCancel,
    InviteRevoke,
    InviteRole,
    InviteUnit,
    UnitPurpose,
    UnitTree,
)
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.render import esc, role_label, when
from handlers.replies import edit_or_send
from handlers.units import tree_view
from models import people
from models.invitations import create_invitation, list_open_invitations, revoke_invitation

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员和单位管理员可以邀请人员。")


async def _role_menu(
    session: AsyncSession, actor: Actor, unit_id: int | None
) -> tuple[str, InlineKeyboardMarkup]:
    roles = invitable_roles(actor, unit_id)
    if not roles:
        raise PermissionDenied(N_("你不能邀请人员加入这个单位。"))
    unit = await people.get_unit(session, unit_id) if unit_id else None
    kb = Keyboard()
    for role in roles:
        kb.button(
            text=role_label(role), callback_data=InviteRole(unit_id=unit_id or 0, role=role.value)
        )
    kb.button(text=_("取消"), callback_data=DialogCancel())
    kb.adjust(2)
    where = esc(unit.name) if unit else _("（不属于单位）")
    return _("邀请加入：{unit}\n请选择受邀人的角色：").format(unit=where), kb.as_markup()


@router.message(Command("invite"))
async def invite(message: Message, session: AsyncSession, actor: Actor | None) -> None:
    checked = require(actor, can_invite, NOT_ALLOWED)
    if not checked.is_admin:
        text, markup = await _role_menu(session, checked, checked.unit_id)
        await message.answer(text, reply_markup=markup)
        return
    units = await people.units_page(session, cursor=None, size=1)
    text, markup = await tree_view(session, UnitTree(purpose=UnitPurpose.INVITE))
    hint = "" if units.total else "\n" + _("还没有单位：可先用 /units 新增单位。")
    await message.answer(_("邀请同事加入哪个单位？") + hint + "\n\n" + text, reply_markup=markup)


@router.callback_query(InviteUnit.filter())
async def invite_unit(
    query: CallbackQuery, callback_data: InviteUnit, session: AsyncSession, actor: Actor | None
) -> None:
    checked = require(actor, can_invite, NOT_ALLOWED)
    text, markup = await _role_menu(session, checked, callback_data.unit_id or None)
    await query.answer()
    await edit_or_send(query, text, reply_markup=markup)


@router.callback_query(InviteRole.filter())
async def invite_role(
    query: CallbackQuery,
    callback_data: InviteRole,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
    bot: Bot,
) -> None:
    checked = require(actor, can_invite, NOT_ALLOWED)
    try:
        role = Role(callback_data.role)
    except ValueError:
        raise PermissionDenied(NOT_ALLOWED) from None
    invitation = await create_invitation(
        session,
        actor=checked,
        unit_id=callback_data.unit_id or None,
        role=role,
        ttl=timedelta(days=settings.invite_ttl_days),
        now=clock.now(),
    )
    link = await create_start_link(bot, invitation.token)
    unit = await people.get_unit(session, invitation.unit_id) if invitation.unit_id else None
    kb = Keyboard()
    kb.button(text=_("撤销此邀请"), callback_data=InviteRevoke(invitation_id=invitation.id or 0))
    await query.answer(_("邀请已生成"))
    await edit_or_send(
        query,
        _(
            "✅ 邀请已生成：{unit}，角色：{role}。\n"
            "请把下面的链接发给受邀人，对方点击后即加入。"
            "链接只能使用一次，{expires} 前有效。\n\n{link}"
        ).format(
            unit=esc(unit.name) if unit else _("（不属于单位）"),
            role=role_label(role),
            expires=when(invitation.expires_at, settings.tz),
            link=esc(link),
        ),
        reply_markup=kb.as_markup(),
    )


@router.message(Command("invites"))
async def list_invites(
    message: Message, session: AsyncSession, actor: Actor | None, clock: Clock, settings: Settings
) -> None:
    checked = require(actor, can_invite, NOT_ALLOWED)
    invitations = await list_open_invitations(session, actor=checked, now=clock.now())
    if not invitations:
        await message.answer(_("没有未使用的邀请。发送 /invite 生成新邀请。"))
        return
    units = {u.id: u.name for u in await people.list_units(session)}
    kb = Keyboard()
    lines = [_("未使用的邀请（共 {n} 条）：").format(n=len(invitations))]
    for inv in invitations:
        lines.append(
            _("#{id} {unit} · {role} · {expires} 前有效").format(
                id=inv.id,
                unit=esc(units.get(inv.unit_id, _("（不属于单位）"))),
                role=role_label(inv.role),
                expires=when(inv.expires_at, settings.tz),
            )
        )
        kb.button(
            text=_("撤销 #{id}").format(id=inv.id),
            callback_data=InviteRevoke(invitation_id=inv.id or 0),
        )
    kb.adjust(2)
    await message.answer("\n".join(lines), reply_markup=kb.as_markup())


@router.callback_query(InviteRevoke.filter())
async def revoke(
    query: CallbackQuery,
    callback_data: InviteRevoke,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = require(actor, can_invite, NOT_ALLOWED)
    await revoke_invitation(
        session, invitation_id=callback_data.invitation_id, actor=checked, now=clock.now()
    )
    await query.answer(
        _("已撤销邀请 #{id}").format(id=callback_data.invitation_id), show_alert=True
    )
