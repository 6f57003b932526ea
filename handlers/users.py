"""/users: the people of a unit; admins change roles and disable or re-enable people."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import PermissionDenied
from governance.i18n import N_
from governance.roles import ROLE_ORDER, Actor, Role, can_change_roles, can_list_users
from handlers.callbacks import (
    UnitPurpose,
    UnitTree,
    UserActive,
    UserOpen,
    UserRoleToggle,
    UsersUnit,
)
from handlers.guards import member, require
from handlers.keyboards import Keyboard
from handlers.menu import set_person_menu
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import esc, person, role_label, roles_text
from handlers.replies import edit_or_send, turn_page
from handlers.units import tree_view
from models import people
from models.people import User
from workflows import membership

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NO_SCOPE = N_("你只能查看自己管理的单位的人员。")


USERS_PAGE = 20


@router.message(Command("users"))
async def users(message: Message, session: AsyncSession, actor: Actor | None) -> None:
    checked = member(actor)
    if checked.is_admin:
        text, markup = await tree_view(session, UnitTree(purpose=UnitPurpose.USERS))
        await message.answer(_("查看哪个单位的人员？") + "\n\n" + text, reply_markup=markup)
        return
    if not can_list_users(checked, checked.unit_id):
        raise PermissionDenied(NO_SCOPE)
    text, markup = await _unit_list(session, checked, UsersUnit(unit_id=checked.unit_id or 0))
    await message.answer(text, reply_markup=markup)


async def _unit_list(
    session: AsyncSession, actor: Actor, query: UsersUnit
) -> tuple[str, InlineKeyboardMarkup]:
    unit_id = query.unit_id or None
    if not (actor.is_admin or can_list_users(actor, unit_id)):
        raise PermissionDenied(NO_SCOPE)
    unit = await people.get_unit(session, unit_id) if unit_id else None
    page = await people.unit_users_page(
        session, unit_id=unit_id, cursor=cursor_of(query), size=USERS_PAGE
    )
    title = esc(unit.name) if unit else _("不属于单位的人员")
    lines = [
        _("{unit}（共 {n} 人）：").format(unit=title, n=page.total) + span_text(page, total=False)
    ]
    kb = Keyboard()
    for user, roles in page.rows:
        flag = "" if user.active else _("（已停用）")
        lines.append(f"• {person(user)} — {roles_text(roles)}{flag}")
        kb.button(text=user.name[:30], callback_data=UserOpen(user_id=user.id or 0))
    if not page.rows:
        lines.append(_("暂无人员。可发送 /invite 邀请。"))
    kb.adjust(2)
    kb.attach(nav_row(page, query))
    return "\n".join(lines), kb.as_markup()


@router.callback_query(UsersUnit.filter())
async def users_of_unit(
    query: CallbackQuery, callback_data: UsersUnit, session: AsyncSession, actor: Actor | None
) -> None:
    checked = member(actor)
    text, markup = await _unit_list(session, checked, callback_data)
    await query.answer()
    await turn_page(query, text, reply_markup=markup)


async def _card(
    session: AsyncSession, actor: Actor, target: User
) -> tuple[str, InlineKeyboardMarkup | None]:
    roles = await people.roles_of(session, target.id or 0)
    unit = await people.get_unit(session, target.unit_id) if target.unit_id else None
    text = "\n".join(
        [
            f"<b>{person(target)}</b>",
            _("单位：{unit}").format(unit=esc(unit.name) if unit else "—"),
            _("角色：{roles}").format(roles=roles_text(roles)),
            _("状态：{state}").format(state=_("在用") if target.active else _("已停用")),
        ]
    )
    if not can_change_roles(actor):
        return text, None
    kb = Keyboard()
    for role in ROLE_ORDER:
        if role is not Role.ADMIN and target.unit_id is None:
            continue
        mark = "✅ " if role in roles else "▫️ "
        kb.button(
            text=mark + role_label(role),
            callback_data=UserRoleToggle(user_id=target.id or 0, role=role.value),
        )
    kb.button(
        text=_("停用此人") if target.active else _("恢复使用"),
        callback_data=UserActive(user_id=target.id or 0, active=not target.active),
    )
    kb.adjust(2)
    return text + "\n\n" + _("点击角色可授予或取消。"), kb.as_markup()


@router.callback_query(UserOpen.filter())
async def open_user(
    query: CallbackQuery, callback_data: UserOpen, session: AsyncSession, actor: Actor | None
) -> None:
    checked = member(actor)
    target = await people.get_user(session, callback_data.user_id)
    if not (checked.is_admin or can_list_users(checked, target.unit_id)):
        raise PermissionDenied(NO_SCOPE)
    text, markup = await _card(session, checked, target)
    await query.answer()
    await edit_or_send(query, text, reply_markup=markup)


@router.callback_query(UserRoleToggle.filter())
async def toggle_role(
    query: CallbackQuery,
    callback_data: UserRoleToggle,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
    bot: Bot,
    i18n: I18n,
) -> None:
    checked = require(actor, can_change_roles, N_("只有管理员可以调整角色。"))
    target = await people.get_user(session, callback_data.user_id)
    try:
        role = Role(callback_data.role)
    except ValueError:
        raise PermissionDenied(N_("只有管理员可以调整角色。")) from None
    roles = await membership.toggle_role(
        session, target=target, role=role, actor=checked, who=user, now=clock.now()
    )
    await set_person_menu(bot, i18n, chat_id=target.telegram_id, roles=roles, locale=target.locale)
    text, markup = await _card(session, checked, target)
    await query.answer(_("已更新"))
    await edit_or_send(query, text, reply_markup=markup)


@router.callback_query(UserActive.filter())
async def set_active(
    query: CallbackQuery,
    callback_data: UserActive,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
) -> None:
    checked = require(actor, can_change_roles, N_("只有管理员可以停用或恢复人员。"))
    target = await people.get_user(session, callback_data.user_id)
    await membership.set_active(
        session,
        target=target,
        active=callback_data.active,
        actor=checked,
        who=user,
        now=clock.now(),
    )
    text, markup = await _card(session, checked, target)
    await query.answer(_("已更新"))
    await edit_or_send(query, text, reply_markup=markup)
