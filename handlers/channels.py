"""/channels: group robots (企业微信 / 钉钉 / 飞书) that receive the office's or a unit's notices;
/mobile: a person's optional mobile number, for @-mentions by those robots.

Webhooks and secrets are shown back only masked; the messages that carried them are deleted
from the chat once read.
"""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from feeds.netguard import GuardPolicy, URLRefused, check_url
from governance.clock import Clock
from governance.errors import InvalidInput
from governance.i18n import N_
from governance.robots import (
    LIMITS,
    RobotKind,
    mask_mobile,
    mask_secret,
    mask_webhook,
    normalise_mobile,
)
from governance.roles import Actor
from handlers.callbacks import ChanAct, ChanKind, ChanScope, DialogCancel
from handlers.guards import member, require
from handlers.keyboards import Keyboard
from handlers.render import esc
from handlers.replies import edit_or_send, reply_to
from models import audit, people
from models.people import Unit, User
from models.robots import RobotChannel
from workflows import channels

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员和单位管理员可以管理机器人渠道。")
KIND_LABELS = {
    RobotKind.WECOM: N_("企业微信群机器人"),
    RobotKind.DINGTALK: N_("钉钉自定义机器人"),
    RobotKind.FEISHU: N_("飞书自定义机器人"),
}
CLEAR_WORDS = frozenset({"删除", "清除", "clear", "delete", "-"})


class ChannelForm(StatesGroup):
    webhook = State()
    secret = State()
    name = State()


def _keeps_channels(actor: Actor) -> bool:
    return actor.is_admin or (actor.is_unit_manager and actor.unit_id is not None)


async def _scope_label(session: AsyncSession, unit_id: int | None) -> str:
    if unit_id is None:
        return _("政务公开办")
    unit = await session.get(Unit, unit_id)
    return unit.name if unit is not None else str(unit_id)


async def _overview(session: AsyncSession, actor: Actor) -> tuple[str, InlineKeyboardMarkup]:
    found = await channels.visible(session, actor)
    lines = [_("<b>机器人渠道</b>（通知同时发到这些企业微信 / 钉钉 / 飞书群）")]
    kb = Keyboard()
    if not found:
        lines.append(_("还没有渠道。"))
    for channel in found:
        lines.append(await _line(session, channel))
        assert channel.id is not None
        kb.button(
            text=_("测试 #{id}").format(id=channel.id),
            callback_data=ChanAct(channel_id=channel.id, action="test"),
        )
        if channel.active:
            kb.button(
                text=_("暂停 #{id}").format(id=channel.id),
                callback_data=ChanAct(channel_id=channel.id, action="pause"),
            )
        else:
            kb.button(
                text=_("恢复 #{id}").format(id=channel.id),
                callback_data=ChanAct(channel_id=channel.id, action="resume"),
            )
        kb.button(
            text=_("删除 #{id}").format(id=channel.id),
            callback_data=ChanAct(channel_id=channel.id, action="delete"),
        )
    kb.adjust(3)
    add = Keyboard()
    add.button(text=_("➕ 添加渠道"), callback_data=ChanScope(unit_id=-1))
    kb.attach(add)
    return "\n".join(lines), kb.as_markup()


async def _line(session: AsyncSession, channel: RobotChannel) -> str:
    state = _("启用") if channel.active else _("已暂停")
    secret = (
        _("，密钥 {secret}").format(secret=mask_secret(channel.secret)) if channel.secret else ""
    )
    return _("#{id} {name}（{kind}，{scope}，{state}）\n    {webhook}{secret}").format(
        id=channel.id,
        name=esc(channel.name),
        kind=_(KIND_LABELS[channel.kind]),
        scope=esc(await _scope_label(session, channel.unit_id)),
        state=state,
        webhook=esc(mask_webhook(channel.webhook)),
        secret=secret,
    )


@router.message(Command("channels"))
async def show(message: Message, session: AsyncSession, actor: Actor | None) -> None:
    checked = require(actor, _keeps_channels, NOT_ALLOWED)
    text, markup = await _overview(session, checked)
    await message.answer(text, reply_markup=markup)


@router.callback_query(ChanScope.filter())
async def choose_scope(
    query: CallbackQuery,
    callback_data: ChanScope,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    checked = require(actor, _keeps_channels, NOT_ALLOWED)
    await query.answer()
    if callback_data.unit_id == -1 and checked.is_admin:
        kb = Keyboard()
        kb.button(text=_("政务公开办（全局）"), callback_data=ChanScope(unit_id=0))
        for unit in await people.list_units(session):
            assert unit.id is not None
            kb.button(text=unit.name, callback_data=ChanScope(unit_id=unit.id))
        kb.button(text=_("取消"), callback_data=DialogCancel())
        kb.adjust(2)
        await reply_to(query, _("这个渠道接收谁的通知？"), reply_markup=kb.as_markup())
        return
    own = callback_data.unit_id == -1
    unit_id: int | None = checked.unit_id if own else (callback_data.unit_id or None)
    if not channels.may_manage(checked, unit_id):
        raise InvalidInput(N_("你只能管理本单位的机器人渠道。"))
    await state.clear()
    await state.update_data(unit_id=unit_id)
    kb = Keyboard()
    for kind, label in KIND_LABELS.items():
        kb.button(text=_(label), callback_data=ChanKind(kind=kind.value))
    kb.button(text=_("取消"), callback_data=DialogCancel())
    kb.adjust(1)
    await reply_to(query, _("选择机器人类型："), reply_markup=kb.as_markup())


@router.callback_query(ChanKind.filter())
async def choose_kind(
    query: CallbackQuery, callback_data: ChanKind, state: FSMContext, actor: Actor | None
) -> None:
    require(actor, _keeps_channels, NOT_ALLOWED)
    try:
        kind = RobotKind(callback_data.kind)
    except ValueError:
        raise InvalidInput(N_("请选择机器人类型。")) from None
    data = await state.get_data()
    if "unit_id" not in data:
        raise InvalidInput(N_("请重新发送 /channels 开始添加。"))
    await state.update_data(kind=kind.value)
    await state.set_state(ChannelForm.webhook)
    await query.answer()
    await reply_to(
        query,
        _("请发送群机器人的 Webhook 地址（在群设置 → 机器人中复制）。发送 /cancel 取消。"),
    )


async def _forget(message: Message) -> None:
    """Delete a message that carried a webhook or a secret (it stays out of the chat history)."""
    with contextlib.suppress(TelegramAPIError):
        await message.delete()


@router.message(ChannelForm.webhook, F.text & ~F.text.startswith("/"))
async def got_webhook(
    message: Message, state: FSMContext, actor: Actor | None, settings: Settings
) -> None:
    require(actor, _keeps_channels, NOT_ALLOWED)
    data = await state.get_data()
    kind = RobotKind(data["kind"])
    url = channels.check_webhook(kind, message.text or "")
    try:
        policy = GuardPolicy(
            allow_private=settings.allow_private_robots,
            allowed_hosts=settings.closed_network,
            only_allowed=settings.feed_allowed_only,
        )
        check_url(url, policy=policy)
    except URLRefused:
        raise InvalidInput(
            N_("该地址不允许访问（内网或保留地址），请使用平台提供的公网地址。")
        ) from None
    await _forget(message)
    await state.update_data(webhook=url)
    if LIMITS[kind].signs:
        await state.set_state(ChannelForm.secret)
        await message.answer(
            _("请发送机器人“安全设置 → 加签”中的密钥（以 SEC 开头或平台给出的签名密钥）。")
        )
        return
    await state.set_state(ChannelForm.name)
    await message.answer(_("请给这个渠道起个名字，如“办公室值班群”。"))


@router.message(ChannelForm.secret, F.text & ~F.text.startswith("/"))
async def got_secret(message: Message, state: FSMContext, actor: Actor | None) -> None:
    require(actor, _keeps_channels, NOT_ALLOWED)
    data = await state.get_data()
    secret = channels.check_secret(RobotKind(data["kind"]), message.text or "")
    await _forget(message)
    await state.update_data(secret=secret)
    await state.set_state(ChannelForm.name)
    await message.answer(_("请给这个渠道起个名字，如“办公室值班群”。"))


@router.message(ChannelForm.name, F.text & ~F.text.startswith("/"))
async def got_name(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = require(actor, _keeps_channels, NOT_ALLOWED)
    data = await state.get_data()
    channel = await channels.add(
        session,
        actor=checked,
        kind=RobotKind(data["kind"]),
        unit_id=data.get("unit_id"),
        webhook=data["webhook"],
        secret=data.get("secret"),
        name=message.text or "",
        now=clock.now(),
    )
    await state.clear()
    text, markup = await _overview(session, checked)
    await message.answer(
        _("已添加渠道 #{id}：{name}。可按“测试”确认群里能收到。").format(
            id=channel.id, name=esc(channel.name)
        )
        + "\n\n"
        + text,
        reply_markup=markup,
    )


@router.callback_query(ChanAct.filter())
async def act(
    query: CallbackQuery,
    callback_data: ChanAct,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = require(actor, _keeps_channels, NOT_ALLOWED)
    now, channel_id = clock.now(), callback_data.channel_id
    if callback_data.action == "test":
        user = await session.get(User, checked.user_id)
        channel = await channels.test(
            session,
            actor=checked,
            channel_id=channel_id,
            actor_name=user.name if user else str(checked.user_id),
            now=now,
        )
        await query.answer(_("测试消息已排队发送到“{name}”。").format(name=channel.name))
        return
    if callback_data.action in ("pause", "resume"):
        channel = await channels.set_active(
            session,
            actor=checked,
            channel_id=channel_id,
            active=callback_data.action == "resume",
            now=now,
        )
        done = _("已恢复") if channel.active else _("已暂停")
    elif callback_data.action == "delete":
        channel = await channels.remove(session, actor=checked, channel_id=channel_id, now=now)
        done = _("已删除")
    else:
        raise InvalidInput(N_("未知操作。"))
    await query.answer(f"{done}：{channel.name}")
    text, markup = await _overview(session, checked)
    await edit_or_send(query, text, reply_markup=markup)


@router.message(Command("mobile"))
async def mobile(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    """``/mobile`` shows the masked number; ``/mobile 138…`` sets it; ``/mobile 删除`` clears it."""
    checked = member(actor)
    user = await session.get(User, checked.user_id)
    assert user is not None
    given = (command.args or "").strip()
    if not given:
        await message.answer(
            _(
                "手机号（选填）只用于企业微信、钉钉群机器人提醒时 @ 你，显示时始终打码。\n"
                "当前：{mobile}\n设置：/mobile 13800138000　清除：/mobile 删除"
            ).format(mobile=mask_mobile(user.mobile))
        )
        return
    before = mask_mobile(user.mobile)
    if given.lower() in CLEAR_WORDS:
        user.mobile = None
    else:
        number = normalise_mobile(given)
        if number is None:
            raise InvalidInput(N_("请发送 11 位大陆手机号，如 /mobile 13800138000。"))
        user.mobile = number
    await _forget(message)
    user.updated_at = clock.now()
    session.add(user)
    await audit.record(
        session,
        at=clock.now(),
        actor_id=checked.user_id,
        action="user.mobile",
        object_type="user",
        object_id=checked.user_id,
        before={"mobile": before},
        after={"mobile": mask_mobile(user.mobile)},
    )
    if user.mobile is None:
        await message.answer(_("已清除你的手机号。"))
    else:
        await message.answer(
            _("已保存手机号 {mobile}，机器人提醒时将 @ 你。").format(
                mobile=mask_mobile(user.mobile)
            )
        )
