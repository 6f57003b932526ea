"""/start (with or without an invitation token), /help and /cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.roles import Actor
from handlers.callbacks import DialogCancel
from handlers.menu import commands_for, set_person_menu
from handlers.render import esc, platform_label, roles_text
from handlers.replies import edit_or_send
from handlers.tour import tour
from models import people
from models.people import User
from workflows import membership

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")


async def _intro(session: AsyncSession, user: User, actor: Actor) -> str:
    lines = [_("你好，{name}！这里是政务新媒体治理机器人。").format(name=esc(user.name))]
    if not actor.active:
        lines.append(_("你的账号已被停用，如有疑问请联系管理员。"))
        return "\n".join(lines)
    if not actor.roles:
        lines.append(
            _("你还没有加入任何单位。请向本单位管理员或政务公开办索取邀请链接，点击后即可加入。")
        )
        return "\n".join(lines)
    unit = await session.get(people.Unit, user.unit_id) if user.unit_id else None
    lines.append(
        _("单位：{unit}；角色：{roles}").format(
            unit=esc(unit.name) if unit else _("（不属于单位）"), roles=roles_text(actor.roles)
        )
    )
    lines.append("")
    lines.append(_("你可以使用："))
    lines += [f"/{cmd} — {_(desc)}" for cmd, desc in commands_for(actor.roles)]
    return "\n".join(lines)


@router.message(CommandStart(deep_link=True))
async def start_with_token(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    clock: Clock,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    joined_as = await membership.accept_invitation(
        session, token=command.args or "", user=user, now=clock.now()
    )
    invitation, unit, claimed, actor = (
        joined_as.invitation,
        joined_as.unit,
        joined_as.claimed,
        joined_as.actor,
    )
    await state.clear()
    await set_person_menu(bot, i18n, chat_id=message.chat.id, roles=actor.roles, locale=user.locale)
    joined = _("✅ 你已加入{unit}，角色：{role}。").format(
        unit=f"“{esc(unit.name)}”" if unit else "",
        role=roles_text(frozenset({invitation.role})),
    )
    if claimed:
        joined += "\n" + _("你已是以下账号的责任人：{names}").format(
            names="、".join(f"{esc(a.name)}（{platform_label(a.platform)}）" for a in claimed)
        )
    guide = tour(actor.roles) if settings.demo_tour and actor.active else ""
    await message.answer(joined + "\n\n" + await _intro(session, user, actor) + guide)


@router.message(CommandStart())
async def start(
    message: Message,
    session: AsyncSession,
    user: User,
    actor: Actor,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
) -> None:
    guide = tour(actor.roles) if settings.demo_tour and actor.active else ""
    await message.answer(await _intro(session, user, actor) + guide)
    # after the reply: the person waits for the greeting, not for the menu's request
    await set_person_menu(bot, i18n, chat_id=message.chat.id, roles=actor.roles, locale=user.locale)


@router.message(Command("help"))
async def help_(message: Message, actor: Actor) -> None:
    lines = [_("可用命令：")]
    lines += [f"/{cmd} — {_(desc)}" for cmd, desc in commands_for(actor.roles)]
    lines += ["", _("任何多步操作中都可以发送 /cancel 退出。")]
    await message.answer("\n".join(lines))


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(_("当前没有进行中的操作。"))
        return
    await state.clear()
    await message.answer(_("已取消，未保存任何内容。"))


@router.callback_query(DialogCancel.filter())
async def cancel_button(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("已取消"))
    if query.message is not None and isinstance(query.message, Message):
        await edit_or_send(query, _("已取消，未保存任何内容。"))
