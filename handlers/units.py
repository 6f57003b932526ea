"""/units: admins list units and add new ones (with an optional parent unit)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.i18n import N_
from governance.registry import validate_unit_name
from governance.roles import Actor, can_manage_units
from handlers.callbacks import (
    AccList,
    CaseList,
    DialogCancel,
    DormantList,
    InviteUnit,
    RegUnit,
    RouteOpen,
    UnitAddParent,
    UnitPurpose,
    UnitTree,
    UsersUnit,
)
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import esc
from handlers.replies import edit_or_send, reply_to, turn_page
from models import people

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

ADD_UNIT = "units:add"


class UnitForm(StatesGroup):
    name = State()
    parent = State()


TREE_PAGE = 12
NOT_ADMIN = N_("只有管理员可以管理单位。")


def _target(purpose: UnitPurpose, unit_id: int) -> CallbackData | None:
    """Where picking a unit leads, for each use of the tree (None: browsing only)."""
    match purpose:
        case UnitPurpose.ACCOUNTS:
            return AccList(unit_id=unit_id)
        case UnitPurpose.USERS:
            return UsersUnit(unit_id=unit_id)
        case UnitPurpose.DORMANT:
            return DormantList(unit_id=unit_id)
        case UnitPurpose.CASES:
            return CaseList(unit_id=unit_id)
        case UnitPurpose.PARENT:
            return UnitAddParent(parent_id=unit_id)
        case UnitPurpose.ROUTES:
            return RouteOpen(unit_id=unit_id, account_id=-1)
        case UnitPurpose.INVITE:
            return InviteUnit(unit_id=unit_id)
        case UnitPurpose.REGISTER:
            return RegUnit(unit_id=unit_id) if unit_id else None
    return None


ALL_LABELS = {
    UnitPurpose.ACCOUNTS: N_("全部单位"),
    UnitPurpose.DORMANT: N_("全部单位"),
    UnitPurpose.CASES: N_("全部单位"),
    UnitPurpose.USERS: N_("不属于单位的人员"),
    UnitPurpose.PARENT: N_("无上级单位"),
    UnitPurpose.INVITE: N_("管理员（不属于单位）"),
}
DIALOGS = {UnitPurpose.PARENT, UnitPurpose.INVITE, UnitPurpose.REGISTER}  # offer 取消


async def tree_view(session: AsyncSession, query: UnitTree) -> tuple[str, InlineKeyboardMarkup]:
    """One level of the unit tree, a page at a time; each unit opens its own level."""
    parent = await people.get_unit(session, query.parent_id) if query.parent_id else None
    page = await people.child_units(
        session, parent_id=parent.id if parent else None, cursor=cursor_of(query), size=TREE_PAGE
    )
    counts = await people.child_counts(session, unit_ids=[u.id or 0 for u in page.rows])
    where = esc(parent.name) if parent else _("顶级单位")
    lines = [_("单位：{where}（{span}）").format(where=where, span=span_text(page))]
    kb = Keyboard()
    for unit in page.rows:
        uid, below = unit.id or 0, counts.get(unit.id or 0, 0)
        lines.append(
            "• " + esc(unit.name) + (_("（下级 {n} 个）").format(n=below) if below else "")
        )
        target = _target(query.purpose, uid)
        if target is not None:
            kb.button(text=unit.name[:30], callback_data=target)
        if below:
            kb.button(
                text=_("{name} 的下级 ▸").format(name=unit.name[:20]),
                callback_data=UnitTree(parent_id=uid, purpose=query.purpose),
            )
    if not page.rows:
        lines.append(_("没有下级单位。"))
    kb.adjust(2 if query.purpose is not UnitPurpose.BROWSE else 1)
    kb.attach(nav_row(page, query))
    more = Keyboard()
    if parent is not None:
        more.button(
            text=_("⬆ 上一级"),
            callback_data=UnitTree(parent_id=parent.parent_id or 0, purpose=query.purpose),
        )
    if query.purpose in ALL_LABELS:
        target = _target(query.purpose, 0)
        assert target is not None
        more.button(text=_(ALL_LABELS[query.purpose]), callback_data=target)
    if query.purpose is UnitPurpose.BROWSE:
        more.button(text=_("➕ 新增单位"), callback_data=ADD_UNIT)
    if query.purpose in DIALOGS:
        more.button(text=_("取消"), callback_data=DialogCancel())
    more.adjust(2)
    kb.attach(more)
    return "\n".join(lines), kb.as_markup()


@router.message(Command("units"))
async def list_units(message: Message, session: AsyncSession, actor: Actor | None) -> None:
    require(actor, can_manage_units, NOT_ADMIN)
    text, markup = await tree_view(session, UnitTree())
    await message.answer(text, reply_markup=markup)


@router.callback_query(UnitTree.filter())
async def browse(
    query: CallbackQuery, callback_data: UnitTree, session: AsyncSession, actor: Actor | None
) -> None:
    """Every unit picker (accounts, people, dormant, cases, a new unit's parent) is this tree:
    only admins pick among all units; everyone else sees their own unit's lists."""
    require(actor, can_manage_units, N_("只有管理员可以按单位浏览。"))
    text, markup = await tree_view(session, callback_data)
    await query.answer()
    await turn_page(query, text, reply_markup=markup)


@router.callback_query(F.data == ADD_UNIT)
async def add_unit(query: CallbackQuery, state: FSMContext, actor: Actor | None) -> None:
    require(actor, can_manage_units, NOT_ADMIN)
    await state.set_state(UnitForm.name)
    await query.answer()
    await reply_to(query, _("请输入新单位的全称（如：某区教育局）。发送 /cancel 取消。"))


@router.message(UnitForm.name, F.text & ~F.text.startswith("/"))
async def unit_name(
    message: Message, state: FSMContext, session: AsyncSession, actor: Actor | None
) -> None:
    require(actor, can_manage_units, NOT_ADMIN)
    name = validate_unit_name(message.text)
    if await people.unit_named(session, name) is not None:
        await message.answer(_("单位“{name}”已存在，请换一个名称。").format(name=esc(name)))
        return
    await state.update_data(unit_name=name)
    await state.set_state(UnitForm.parent)
    text, markup = await tree_view(session, UnitTree(purpose=UnitPurpose.PARENT))
    await message.answer(
        _("“{name}”的上级单位是？").format(name=esc(name)) + "\n\n" + text, reply_markup=markup
    )


@router.callback_query(UnitForm.parent, UnitAddParent.filter())
async def unit_parent(
    query: CallbackQuery,
    callback_data: UnitAddParent,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = require(actor, can_manage_units, NOT_ADMIN)
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
        query,
        _("✅ 已新增单位“{name}”。可以发送 /invite 邀请该单位的人员。").format(name=esc(unit.name)),
    )


@router.callback_query(UnitAddParent.filter())
async def stale_parent(query: CallbackQuery) -> None:
    await query.answer(_("该操作已结束，请重新发送 /units。"), show_alert=True)
