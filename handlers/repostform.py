"""The new repost task dialog's steps: its states, the order of the fields, and
:func:`advance`, which asks for the first field still missing (as ``handlers.registerform``
does), so a restart or a cleared field resumes at the right step."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.registry import PLATFORM_LABELS, Platform
from governance.reposts import SCOPE_LABELS, ScopeKind
from governance.roles import Actor
from handlers.callbacks import (
    DialogCancel,
    TaskConfirm,
    TaskDeadline,
    TaskHeadline,
    TaskPick,
    TaskScope,
)
from handlers.keyboards import Keyboard
from handlers.render import esc, platform_label, safe_link
from handlers.replies import pressed_message
from models import people
from workflows.reposts import TaskDraft, assignable_accounts

if TYPE_CHECKING:
    from bot.settings import Settings


class RepostForm(StatesGroup):
    source = State()
    title = State()
    text = State()
    scope = State()
    pick = State()
    accounts = State()
    deadline = State()
    headline = State()
    confirm = State()


#: Fields in the order they are asked.
ORDER = ("link", "title", "text", "scope", "ids", "deadline", "headline")
DEADLINE_DAYS = (1, 3, 7)
MAX_BUTTONS = 60


def _cancel(kb: Keyboard) -> None:
    kb.button(text=_("取消"), callback_data=DialogCancel())


async def send_step(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    message = pressed_message(target) if isinstance(target, CallbackQuery) else target
    if isinstance(target, CallbackQuery):
        await target.answer()
    await message.answer(text, reply_markup=markup)


async def _choices(session: AsyncSession, actor: Actor, kind: ScopeKind) -> list[tuple[str, str]]:
    """(value, label) of what can be picked for ``kind``: units or platforms."""
    if kind is ScopeKind.UNITS:
        units = [u for u in await people.list_units(session) if actor.manages(u.id)]
        return [(str(u.id), u.name) for u in units[:MAX_BUTTONS]]
    return [(p.value, _(PLATFORM_LABELS[p])) for p in Platform]


async def pick_keyboard(
    session: AsyncSession, actor: Actor, kind: ScopeKind, picked: list[str]
) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for value, label in await _choices(session, actor, kind):
        mark = "✅ " if value in picked else ""
        kb.button(text=f"{mark}{label}"[:40], callback_data=TaskPick(value=value))
    kb.button(text=_("选好了"), callback_data=TaskPick(value=""))
    _cancel(kb)
    kb.adjust(2)
    return kb.as_markup()


def draft_of(data: dict[str, Any]) -> TaskDraft:
    return TaskDraft(
        title=data["title"],
        link=data.get("link") or None,
        text=data.get("text") or "",
        headline_counts=bool(data["headline"]),
        deadline=datetime.fromisoformat(data["deadline"]),
        scope=ScopeKind(data["scope"]),
        ids=tuple(str(i) for i in data.get("ids", [])),
    )


async def advance(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    """Ask for the first missing field, or show the summary when the task is complete."""
    data = await state.get_data()
    step = next((f for f in ORDER if f not in data), None)
    hint = "\n" + _("（发送 /cancel 可随时取消）")
    kb = Keyboard()
    if step == "link":
        await state.set_state(RepostForm.source)
        await send_step(
            target,
            _("请发送原文链接（可在链接前一行写标题），或把原文消息直接转发给我。") + hint,
        )
    elif step == "title":
        await state.set_state(RepostForm.title)
        await send_step(target, _("请输入原文标题（2–300 字）。") + hint)
    elif step == "text":
        await state.set_state(RepostForm.text)
        kb.button(text=_("跳过"), callback_data=TaskConfirm(action="skip_text"))
        _cancel(kb)
        await send_step(
            target,
            _("可发送原文正文（用于识别改了标题的转载），或点击“跳过”。"),
            kb.as_markup(),
        )
    elif step == "scope":
        await state.set_state(RepostForm.scope)
        kinds = (
            list(ScopeKind)
            if actor.is_admin
            else [ScopeKind.ALL, ScopeKind.PLATFORMS, ScopeKind.LIST]
        )
        for kind in kinds:
            kb.button(text=_(SCOPE_LABELS[kind]), callback_data=TaskScope(kind=kind.value))
        _cancel(kb)
        kb.adjust(2)
        text = _("请选择转载账号的范围：")
        if not actor.is_admin:
            text = _("请选择本单位转载账号的范围：")
        await send_step(target, text, kb.as_markup())
    elif step == "ids":
        kind = ScopeKind(data["scope"])
        if kind is ScopeKind.ALL:
            await state.update_data(ids=[])
            await advance(target, state, session, actor, settings)
            return
        if kind is ScopeKind.LIST:
            await state.set_state(RepostForm.accounts)
            await send_step(target, _("请发送账号编号，用逗号或空格分隔，如：12, 15, 18") + hint)
            return
        await state.set_state(RepostForm.pick)
        markup = await pick_keyboard(session, actor, kind, data.get("picked", []))
        what = _("单位") if kind is ScopeKind.UNITS else _("平台")
        await send_step(
            target,
            _("请选择{what}（可多选），选好后点击“选好了”。").format(what=what),
            markup,
        )
    elif step == "deadline":
        await state.set_state(RepostForm.deadline)
        for days in DEADLINE_DAYS:
            kb.button(text=_("{n} 天后").format(n=days), callback_data=TaskDeadline(days=days))
        _cancel(kb)
        kb.adjust(3, 1)
        await send_step(
            target,
            _("请设置截止时间：点击按钮（当天 18:00），或输入如 2026-01-25 18:00。"),
            kb.as_markup(),
        )
    elif step == "headline":
        await state.set_state(RepostForm.headline)
        kb.button(text=_("计为完成"), callback_data=TaskHeadline(counts=True))
        kb.button(text=_("不计为完成"), callback_data=TaskHeadline(counts=False))
        _cancel(kb)
        kb.adjust(2, 1)
        await send_step(target, _("只转发标题（不含正文）的转载是否计为完成？"), kb.as_markup())
    else:
        await summary(target, state, session, actor, settings)


async def summary(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    data = await state.get_data()
    draft = draft_of(data)
    chosen = await assignable_accounts(session, actor=actor, scope=draft.scope, ids=draft.ids)
    await state.set_state(RepostForm.confirm)
    units = sorted({a.unit_id for a in chosen})
    link = safe_link(draft.link)
    lines = [
        _("请核对转载任务："),
        _("标题：{title}").format(title=esc(draft.title)),
        _("原文链接：{link}").format(link=esc(link) if link else _("无")),
        _("正文：{n} 字").format(n=len(draft.text)) if draft.text else _("正文：未提供"),
        _("范围：{scope}").format(scope=_(SCOPE_LABELS[draft.scope]))
        + (
            "（" + "、".join(platform_label(p) for p in draft.ids) + "）"
            if draft.scope is ScopeKind.PLATFORMS
            else ""
        ),
        _("账号：{n} 个，分属 {units} 个单位").format(n=len(chosen), units=len(units)),
        _("截止时间：{when}").format(
            when=draft.deadline.astimezone(settings.tz).strftime("%Y-%m-%d %H:%M")
        ),
        _("仅转标题：{rule}").format(
            rule=_("计为完成") if draft.headline_counts else _("不计为完成")
        ),
    ]
    kb = Keyboard()
    kb.button(text=_("✅ 确认发布"), callback_data=TaskConfirm(action="confirm"))
    kb.button(text=_("取消"), callback_data=TaskConfirm(action="cancel"))
    kb.adjust(2)
    await send_step(target, "\n".join(lines), kb.as_markup())
