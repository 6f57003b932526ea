"""Corrections of a repost task (转载任务) from its card: undo a false match with a reason (that
post is never matched again), confirm a missed repost with its link, end or withdraw the task,
and read the task's record. Only admins and the managers of the unit that started the task."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import PermissionDenied
from governance.reposts import TargetStatus
from governance.roles import Actor
from handlers.callbacks import DialogCancel, TaskClose, TaskOpen, TaskRecord, TaskTarget
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.render import audit_label, esc, when
from handlers.replies import pressed_message, reply_to
from handlers.repostform import send_step
from handlers.reposts import NOT_ALLOWED, TEXT, show_card
from handlers.repostviews import account_line
from models import audit, people
from models import reposts as stored
from models.accounts import Account
from models.people import Unit
from workflows import reposts
from workflows.reposts import can_manage_reposts

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")


class RepostFix(StatesGroup):
    reason = State()  # why a match is undone
    link = State()  # the link of a repost confirmed by hand


# --- corrections ------------------------------------------------------------------------------


@router.callback_query(TaskTarget.filter(F.action == "open"))
async def target_menu(
    query: CallbackQuery,
    callback_data: TaskTarget,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    target = await stored.get_target(session, callback_data.target_id)
    task = await stored.get_task(session, target.task_id)
    if not reposts.can_correct(checked, task):
        raise PermissionDenied(reposts.NOT_YOURS)
    account = await session.get(Account, target.account_id)
    unit = await session.get(Unit, account.unit_id) if account else None
    assert account is not None and unit is not None
    line = stored.line_of(target, account, unit, task=task, now=clock.now())
    kb = Keyboard()
    text = [account_line(line, settings.tz)]
    if target.link:
        text.append(_("转载链接：{link}").format(link=esc(target.link)))
    if target.status is TargetStatus.DONE:
        kb.button(
            text=_("撤销匹配"), callback_data=TaskTarget(target_id=target.id or 0, action="undo")
        )
    else:
        kb.button(
            text=_("手工确认已转载"),
            callback_data=TaskTarget(target_id=target.id or 0, action="confirm"),
        )
    kb.button(text=_("返回任务"), callback_data=TaskOpen(task_id=task.id or 0))
    kb.adjust(1)
    await query.answer()
    await pressed_message(query).answer("\n".join(text), reply_markup=kb.as_markup())


@router.callback_query(TaskTarget.filter(F.action.in_({"undo", "confirm"})))
async def target_fix(
    query: CallbackQuery,
    callback_data: TaskTarget,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    target = await stored.get_target(session, callback_data.target_id)
    task = await stored.get_task(session, target.task_id)
    if not reposts.can_correct(checked, task):
        raise PermissionDenied(reposts.NOT_YOURS)
    await state.clear()
    await state.set_data({"target_id": target.id})
    kb = Keyboard()
    kb.button(text=_("取消"), callback_data=DialogCancel())
    if callback_data.action == "undo":
        await state.set_state(RepostFix.reason)
        prompt = _("请说明撤销这次匹配的原因（如：转载的是另一篇文章）。")
    else:
        await state.set_state(RepostFix.link)
        prompt = _("请发送该账号转载文章的链接。")
    await send_step(query, prompt, kb.as_markup())


@router.message(RepostFix.reason, TEXT)
async def got_reason(
    message: Message, state: FSMContext, session: AsyncSession, actor: Actor | None, clock: Clock
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    data = await state.get_data()
    target = await reposts.undo_match(
        session,
        actor=checked,
        target_id=int(data["target_id"]),
        reason=message.text or "",
        now=clock.now(),
    )
    await state.clear()
    kb = Keyboard()
    kb.button(text=_("返回任务"), callback_data=TaskOpen(task_id=target.task_id))
    await message.answer(
        _("已撤销匹配，该账号恢复为待转载；该条内容不会再被匹配。"), reply_markup=kb.as_markup()
    )


@router.message(RepostFix.link, TEXT)
async def got_link(
    message: Message, state: FSMContext, session: AsyncSession, actor: Actor | None, clock: Clock
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    data = await state.get_data()
    target = await reposts.confirm_by_hand(
        session,
        actor=checked,
        target_id=int(data["target_id"]),
        link=message.text or "",
        now=clock.now(),
    )
    await state.clear()
    kb = Keyboard()
    kb.button(text=_("返回任务"), callback_data=TaskOpen(task_id=target.task_id))
    await message.answer(_("已手工确认该账号完成转载。"), reply_markup=kb.as_markup())


@router.callback_query(TaskClose.filter())
async def close(
    query: CallbackQuery,
    callback_data: TaskClose,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    if not callback_data.sure:
        task = await stored.get_task(session, callback_data.task_id)
        if not reposts.can_correct(checked, task):
            raise PermissionDenied(reposts.NOT_YOURS)
        kb = Keyboard()
        sure = TaskClose(task_id=callback_data.task_id, cancel=callback_data.cancel, sure=True)
        kb.button(text=_("确定"), callback_data=sure)
        kb.button(text=_("返回任务"), callback_data=TaskOpen(task_id=callback_data.task_id))
        kb.adjust(2)
        if callback_data.cancel:
            prompt = _("撤销后该任务不再计入通报和报告，已识别的转载记录保留。确定撤销？")
        else:
            prompt = _("结束后不再识别转载、不再提醒，进度保留在报告中。确定结束？")
        await send_step(query, prompt, kb.as_markup())
        return
    await reposts.close_task(
        session,
        actor=checked,
        task_id=callback_data.task_id,
        now=clock.now(),
        cancel=callback_data.cancel,
    )
    await show_card(query, session, checked, settings, clock, callback_data.task_id)


@router.callback_query(TaskRecord.filter())
async def record(
    query: CallbackQuery,
    callback_data: TaskRecord,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    """The task's audit record: who did what and when, each account's match and correction."""
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    task = await stored.get_task(session, callback_data.task_id)
    if not reposts.can_correct(checked, task):
        raise PermissionDenied(reposts.NOT_YOURS)
    entries = await audit.history(session, object_type="repost_task", object_id=task.id, limit=40)
    lines = [_("转载任务 #{id} 的记录：").format(id=task.id)]
    for entry in reversed(entries):
        who = _("系统")
        if entry.actor_id:
            person = await session.get(people.User, entry.actor_id)
            who = esc(person.name) if person else "?"
        line = f"{when(entry.at, settings.tz)} · {who} · {audit_label(entry.action)}"
        account_id = (entry.after or {}).get("account_id")
        if account_id:
            account = await session.get(Account, account_id)
            line += f" · #{account_id} {esc(account.name) if account else ''}"
        if entry.note:
            line += f"（{esc(entry.note[:80])}）"
        lines.append(line)
    await query.answer()
    await reply_to(query, "\n".join(lines))


@router.message(StateFilter(RepostFix), ~F.text)
async def not_text(message: Message) -> None:
    await message.answer(_("请按提示发送文字或点击按钮；发送 /cancel 可取消。"))
