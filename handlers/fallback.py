"""Last in line: group chats get only commands addressed to the bot; private chats get a hint.

Included after every other router, so it only sees what nothing else handled.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)

GROUPS = F.chat.type.in_({"group", "supergroup"})


@router.message(GROUPS, Command("help", "start"))
async def group_help(message: Message) -> None:
    await message.reply(
        _("我会在本群发送预警和通报。登记账号、审批等操作请私聊我，发送 /start 开始。")
    )


@router.message(GROUPS, F.text.startswith("/"))
async def group_command(message: Message, bot: Bot) -> None:
    """A command in a group: answer only when it names this bot or no bot at all."""
    me = await bot.me()
    head = (message.text or "").split(maxsplit=1)[0]
    if "@" in head and head.split("@", 1)[1].lower() != (me.username or "").lower():
        return
    await message.reply(_("该功能请私聊我使用。"))


@router.message(F.chat.type == "private", F.text.startswith("/"))
async def unknown_command(message: Message) -> None:
    await message.answer(_("未知命令。发送 /help 查看可用命令。"))


@router.message(F.chat.type == "private")
async def stray_message(message: Message) -> None:
    await message.answer(_("没有进行中的操作。发送 /help 查看可用命令。"))


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(_("该按钮已失效（操作已完成或已取消），请重新发起。"), show_alert=True)
