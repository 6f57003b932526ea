"""/units: admins list units and add new ones (with an optional parent unit)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.i18n import N_
from governance.registry import validate_unit_name
from governance.roles import Actor, can_manage_units
from handlers.callbacks import DialogCancel, UnitAddParent
from handlers.guards import require
from handlers.render import esc
from handlers.replies import edit_or_send, reply_to
from models import people
from models.people import Unit

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

ADD_UNIT = "units:add"


class UnitForm(StatesGroup):
    name = State()
    parent = State()


def _tree(units: list[Unit]) -> list[str]:
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in children.get(parent, []):
            lines.append("  " * depth + ("└ " if depth else "• ") + esc(unit.name))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return lines


@router.message(Command("units"))
async def list_units(message: Message, session: AsyncSession, actor: Actor | None) -> None:
    require(actor, can_manage_units, N_("只有管理员可以管理单位。"))
    units = await people.list_units(session)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("➕ 新增单位"), callback_data=ADD_UNIT)
    body = "\n".join(_tree(units)) if units else _("还没有单位。")
    await message.answer(
        _("单位（共 {n} 个）：").format(n=len(units)) + "\n" + body, reply_markup=kb.as_markup()
    )


@router.callback_query(F.data == ADD_UNIT)
async def add_unit(query: CallbackQuery, state: FSMContext, actor: Actor | None) -> None:
    require(actor, can_manage_units, N_("只有管理员可以管理单位。"))
    await state.set_state(UnitForm.name)
    await query.answer()
    await reply_to(query, _("请输入新单位的全称（如：某区教育局）。发送 /cancel 取消。"))  # type: ignore[union-attr]


@router.message(UnitForm.name, F.text & ~F.text.startswith("/"))
async def unit_name(
    message: Message, state: FSMContext, session: AsyncSession, actor: Actor | None
) -> None:
    require(actor, can_manage_units, N_("只有管理员可以管理单位。"))
    name = validate_unit_name(message.text)
    units = await people.list_units(session)
    if any(u.name == name for u in units):
        await message.answer(_("单位“{name}”已存在，请换一个名称。").format(name=esc(name)))
        return
    await state.update_data(unit_name=name)
    await state.set_state(UnitForm.parent)
    await message.answer(
        _("“{name}”的上级单位是？").format(name=esc(name)), reply_markup=_parents(units)
    )


def _parents(units: list[Unit]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("无上级单位"), callback_data=UnitAddParent(parent_id=0))
    for unit in units[:40]:
        kb.button(text=unit.name, callback_data=UnitAddParent(parent_id=unit.id or 0))
    kb.button(text=_("取消"), callback_data=DialogCancel())
    kb.adjust(1)
    return kb.as_markup()


@router.callback_query(UnitForm.parent, UnitAddParent.filter())
async def unit_parent(
    query: CallbackQuery,
    callback_data: UnitAddParent,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_units, N_("只有管理员可以管理单位。"))
    data = await state.get_data()
    unit = await people.create_unit(
        session,
        name=data.get("unit_name", ""),
        parent_id=callback_data.parent_id or None,
        actor=checked,
        now=clock.now(),
    )
    await state.clear()
    await query.answer(_("已新增"))
    await edit_or_send(
        query,  # type: ignore[union-attr]
        _("✅ 已新增单位“{name}”。可以发送 /invite 邀请该单位的人员。").format(name=esc(unit.name)),
    )


@router.callback_query(UnitAddParent.filter())
async def stale_parent(query: CallbackQuery) -> None:
    await query.answer(_("该操作已结束，请重新发送 /units。"), show_alert=True)
