"""The command menu (set_my_commands), per role, in Chinese and English."""

from __future__ import annotations

import contextlib

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from aiogram.utils.i18n import I18n

from governance.i18n import N_
from governance.roles import Role

BASIC = [
    ("start", N_("开始 / 我的身份")),
    ("help", N_("帮助：可用命令")),
    ("cancel", N_("取消当前操作")),
]
MEMBER = [
    ("accounts", N_("账号台账")),
    ("dormant", N_("不更新账号排行")),
    ("check", N_("立即检查账号订阅源")),
    ("cases", N_("整改清单")),
    ("websites", N_("政府网站")),
    ("submit", N_("提交送审稿（先审后发）")),
    ("mine", N_("我的送审稿")),
    ("pending", N_("待我审核/审批")),
    ("review", N_("审核记录（/review 编号）")),
    ("delegate", N_("外出时委托代审")),
]
MANAGER = [
    ("routes", N_("审核流程设置")),
    ("register", N_("登记新账号（开设备案）")),
    ("invite", N_("邀请同事加入")),
    ("invites", N_("查看和撤销邀请")),
    ("users", N_("单位人员")),
    ("ledger", N_("台账导入导出")),
    ("report", N_("监测报告与季度抽查")),
    ("tasks", N_("转载任务")),
]
ADMIN = [
    ("units", N_("单位管理")),
    ("words", N_("错敏词库")),
    ("monitor", N_("监测运行状况")),
    ("export", N_("导出审核单和审核记录")),
]
GROUP = [("help", N_("帮助"))]

LOCALES = ("zh_CN", "en")


def commands_for(roles: frozenset[Role]) -> list[tuple[str, str]]:
    """The commands a person with ``roles`` can use, in menu order."""
    items = list(BASIC)
    if roles:
        items += MEMBER
    if Role.ADMIN in roles or Role.UNIT_MANAGER in roles:
        items += MANAGER
    if Role.ADMIN in roles:
        items += ADMIN
    return items


def _commands(i18n: I18n, items: list[tuple[str, str]], locale: str) -> list[BotCommand]:
    return [BotCommand(command=c, description=i18n.gettext(d, locale=locale)) for c, d in items]


async def set_default_menus(bot: Bot, i18n: I18n) -> None:
    for locale in LOCALES:
        code = None if locale == "zh_CN" else locale
        await bot.set_my_commands(
            _commands(i18n, BASIC, locale),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=code,
        )
        await bot.set_my_commands(
            _commands(i18n, GROUP, locale), scope=BotCommandScopeAllGroupChats(), language_code=code
        )


async def set_person_menu(
    bot: Bot, i18n: I18n, *, chat_id: int, roles: frozenset[Role], locale: str
) -> None:
    """Give one person the menu of their roles; a failure here must not fail the action."""
    with contextlib.suppress(TelegramAPIError):
        await bot.set_my_commands(
            _commands(i18n, commands_for(roles), locale), scope=BotCommandScopeChat(chat_id=chat_id)
        )
