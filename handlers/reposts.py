"""/tasks: repost tasks (转载任务) — the list, the new-task dialog, the card, corrections.

Admins start tasks for any accounts; a unit manager for their unit's. The dialog is
:func:`handlers.repostform.advance`; each answer is checked by the rules the workflow checks
again when the task is stored. Corrections are :mod:`handlers.repostfix`.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, LinkPreviewOptions, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import InvalidInput, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.registry import Platform
from governance.reposts import (
    TASK_STATUS_LABELS,
    ScopeKind,
    TargetStatus,
    deadline_in,
    parse_deadline,
    read_source,
    totals,
)
from governance.roles import Actor
from handlers.callbacks import (
    TaskConfirm,
    TaskDeadline,
    TaskHeadline,
    TaskList,
    TaskNew,
    TaskOpen,
    TaskPick,
    TaskScope,
)
from handlers.guards import member, require
from handlers.keyboards import Keyboard
from handlers.render import esc, short
from handlers.replies import edit_or_send, pressed_message
from handlers.repostform import RepostForm, advance, draft_of, pick_keyboard
from handlers.repostviews import task_card
from models import reposts as stored
from workflows import reposts
from workflows.reposts import can_manage_reposts, validate_body, validate_deadline, validate_title

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员和单位管理员可以管理转载任务。")
TEXT = F.text & ~F.text.startswith("/")
LIST_SIZE = 10
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# --- list and card ----------------------------------------------------------------------------


async def _list(
    target: Message | CallbackQuery,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    page: int,
    clock: Clock,
) -> None:
    unit_id = None if actor.is_admin else actor.unit_id
    tasks = await stored.list_tasks(
        session, unit_id=unit_id, limit=LIST_SIZE + 1, offset=page * LIST_SIZE
    )
    more, tasks = len(tasks) > LIST_SIZE, tasks[:LIST_SIZE]
    now = clock.now()
    lines = ["<b>" + _("转载任务") + "</b>"]
    kb = Keyboard()
    for task in tasks:
        rows = await reposts.task_lines(session, task, now=now, unit_id=unit_id)
        count = totals([line for _t, line in rows])
        done = sum(1 for t, _l in rows if t.status is TargetStatus.DONE)
        lines.append(
            _("#{id}《{title}》{status}，截止 {when}，已转载 {done}/{n}").format(
                id=task.id,
                title=esc(short(task.title, 40)),
                status=_(TASK_STATUS_LABELS[task.status]),
                when=task.deadline.astimezone(settings.tz).strftime("%m-%d %H:%M"),
                done=done,
                n=sum(count.values()),
            )
        )
        kb.button(
            text=f"#{task.id} {task.title}"[:32], callback_data=TaskOpen(task_id=task.id or 0)
        )
    if not tasks:
        lines.append(_("还没有转载任务。"))
    sizes = [1] * len(tasks)
    if page > 0 or more:
        if page > 0:
            kb.button(text=_("◀ 上一页"), callback_data=TaskList(page=page - 1))
        if more:
            kb.button(text=_("下一页 ▶"), callback_data=TaskList(page=page + 1))
        sizes.append(2 if page > 0 and more else 1)
    kb.button(text=_("➕ 新建转载任务"), callback_data=TaskNew())
    sizes.append(1)
    kb.adjust(*sizes)
    if isinstance(target, CallbackQuery):
        await target.answer()
        await edit_or_send(target, "\n".join(lines), reply_markup=kb.as_markup())
    else:
        await target.answer("\n".join(lines), reply_markup=kb.as_markup())


@router.message(Command("tasks"))
async def tasks_command(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    await state.clear()
    await _list(message, session, checked, settings, 0, clock)


@router.callback_query(TaskList.filter())
async def tasks_page(
    query: CallbackQuery,
    callback_data: TaskList,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    await _list(query, session, checked, settings, max(callback_data.page, 0), clock)


def _view_unit(actor: Actor) -> int | None:
    """Whose rows a person sees: admins all; everyone else their unit's."""
    if actor.is_admin:
        return None
    if actor.unit_id is None:
        raise PermissionDenied(N_("你还没有所属单位，无法查看转载任务。"))
    return actor.unit_id


async def show_card(
    query: CallbackQuery,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
    clock: Clock,
    task_id: int,
    page: int = 0,
) -> None:
    task = await stored.get_task(session, task_id)
    rows = await reposts.task_lines(session, task, now=clock.now(), unit_id=_view_unit(actor))
    if not rows:
        raise PermissionDenied(N_("该转载任务不涉及你所在单位的账号。"))
    text, markup = task_card(task, rows, actor=actor, tz=settings.tz, page=page)
    await query.answer()
    await edit_or_send(query, text, reply_markup=markup, link_preview_options=NO_PREVIEW)


@router.callback_query(TaskOpen.filter())
async def open_card(
    query: CallbackQuery,
    callback_data: TaskOpen,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = member(actor)
    await show_card(
        query, session, checked, settings, clock, callback_data.task_id, callback_data.page
    )


# --- the new-task dialog ----------------------------------------------------------------------


@router.callback_query(TaskNew.filter())
async def new_task(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    await state.clear()
    await state.set_data({"submission": secrets.token_hex(8)})
    await advance(query, state, session, checked, settings)


@router.message(RepostForm.source, F.text | F.caption)
async def got_source(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or []
    hidden = [e.url for e in entities if e.type == "text_link" and e.url]
    source = read_source(text, extra_links=hidden, forwarded=message.forward_origin is not None)
    if source.link is None and source.title is None:
        raise InvalidInput(N_("没有找到链接或标题，请发送原文链接，或转发原文消息。"))
    values: dict[str, Any] = {"link": reposts.validate_link(source.link) if source.link else ""}
    if source.title:
        values["title"] = validate_title(source.title)
    if source.text:
        values["text"] = validate_body(source.text)
    await state.update_data(**values)
    await advance(message, state, session, checked, settings)


@router.message(RepostForm.title, TEXT)
async def got_title(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    await state.update_data(title=validate_title(message.text))
    await advance(message, state, session, checked, settings)


@router.message(RepostForm.text, TEXT)
async def got_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    await state.update_data(text=validate_body(message.text))
    await advance(message, state, session, checked, settings)


@router.callback_query(RepostForm.text, TaskConfirm.filter(F.action == "skip_text"))
async def skip_text(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    await state.update_data(text="")
    await advance(query, state, session, checked, settings)


@router.callback_query(RepostForm.scope, TaskScope.filter())
async def got_scope(
    query: CallbackQuery,
    callback_data: TaskScope,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    try:
        kind = ScopeKind(callback_data.kind)
    except ValueError:
        raise InvalidInput(N_("请选择一个范围。")) from None
    if kind is ScopeKind.UNITS and not checked.is_admin:
        raise PermissionDenied(N_("单位管理员只能为本单位账号发布任务。"))
    await state.update_data(scope=kind.value, picked=[])
    await advance(query, state, session, checked, settings)


@router.callback_query(RepostForm.pick, TaskPick.filter())
async def got_pick(
    query: CallbackQuery,
    callback_data: TaskPick,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    data = await state.get_data()
    kind = ScopeKind(data["scope"])
    picked: list[str] = list(data.get("picked", []))
    if not callback_data.value:
        if not picked:
            raise InvalidInput(N_("请至少选择一项。"))
        await state.update_data(ids=picked)
        await advance(query, state, session, checked, settings)
        return
    value = callback_data.value
    valid = value in Platform._value2member_map_ if kind is ScopeKind.PLATFORMS else value.isdigit()
    if not valid or (kind is ScopeKind.UNITS and not checked.manages(int(value))):
        raise InvalidInput(N_("请从按钮中选择。"))
    picked = [p for p in picked if p != value] if value in picked else [*picked, value]
    await state.update_data(picked=picked)
    await query.answer()
    pressed = pressed_message(query)
    markup = await pick_keyboard(session, checked, kind, picked)
    if isinstance(pressed, Message):
        await pressed.edit_reply_markup(reply_markup=markup)
    else:
        await pressed.answer(_("已选择 {n} 项。").format(n=len(picked)), reply_markup=markup)


@router.message(RepostForm.accounts, TEXT)
async def got_accounts(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    ids = list(dict.fromkeys(re.findall(r"\d+", message.text or "")))
    if not ids or len(ids) > 500:
        raise InvalidInput(N_("请发送账号编号，用逗号或空格分隔（最多 500 个）。"))
    await state.update_data(ids=ids)
    await advance(message, state, session, checked, settings)


@router.callback_query(RepostForm.deadline, TaskDeadline.filter())
async def got_deadline_button(
    query: CallbackQuery,
    callback_data: TaskDeadline,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    if not 1 <= callback_data.days <= 30:
        raise InvalidInput(N_("请从按钮中选择。"))
    when = deadline_in(callback_data.days, now=clock.now(), tz=settings.tz)
    await state.update_data(deadline=validate_deadline(when, now=clock.now()).isoformat())
    await advance(query, state, session, checked, settings)


@router.message(RepostForm.deadline, TEXT)
async def got_deadline(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    when = parse_deadline(message.text or "", tz=settings.tz)
    if when is None:
        raise InvalidInput(N_("请按 2026-01-25 18:00 的格式输入截止时间。"))
    await state.update_data(deadline=validate_deadline(when, now=clock.now()).isoformat())
    await advance(message, state, session, checked, settings)


@router.callback_query(RepostForm.headline, TaskHeadline.filter())
async def got_headline(
    query: CallbackQuery,
    callback_data: TaskHeadline,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    await state.update_data(headline=callback_data.counts)
    await advance(query, state, session, checked, settings)


@router.callback_query(RepostForm.confirm, TaskConfirm.filter(F.action == "cancel"))
async def cancel_task(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("已取消"))
    await edit_or_send(query, _("转载任务未发布。"))


@router.callback_query(RepostForm.confirm, TaskConfirm.filter(F.action == "confirm"))
async def confirm_task(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_reposts, NOT_ALLOWED)
    data = await state.get_data()
    now = clock.now()
    try:
        task, count = await reposts.create_task(
            session,
            actor=checked,
            draft=draft_of(data),
            now=now,
            tz=settings.tz,
            submission_key=data.get("submission"),
        )
    except IntegrityError:
        raise StaleAction(N_("该任务已发布，请勿重复点击。")) from None
    await state.clear()
    await query.answer(_("已发布"))
    await edit_or_send(
        query,
        _("✅ 已发布转载任务 #{id}，共 {n} 个账号；已通知各账号责任人。").format(
            id=task.id, n=count
        ),
    )
    rows = await reposts.task_lines(session, task, now=now, unit_id=_view_unit(checked))
    text, markup = task_card(task, rows, actor=checked, tz=settings.tz)
    await pressed_message(query).answer(text, reply_markup=markup, link_preview_options=NO_PREVIEW)


@router.message(StateFilter(RepostForm), ~F.text)
async def not_text(message: Message) -> None:
    await message.answer(_("请按提示发送文字或点击按钮；发送 /cancel 可取消。"))
