"""/routes: admins and unit managers set who reviews what, with buttons.

The route being edited lives in the dialog data until 保存; saving validates it again (every
stage staffed by different people) and replaces the stored route with a version check.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InaccessibleMessage, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import InvalidInput, PermissionDenied
from governance.i18n import N_
from governance.review import (
    STAGES_MAX,
    StageRule,
    StageSpec,
    default_stages,
    stages_from,
    validate_sla,
    validate_stage_name,
)
from governance.roles import Actor, Role, can_edit_routes
from handlers.callbacks import RouteEdit, RouteOpen, UnitPurpose, UnitTree
from handlers.guards import member
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import error_text, esc, platform_label, role_label
from handlers.replies import edit_or_send, editable, pressed_message, reply_to, turn_page
from handlers.review_notices import rule_label
from handlers.units import tree_view
from models import people, routes
from models.accounts import Account, AccountFilter, list_accounts

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员和本单位管理员可以设置审核流程。")
TEXT = F.text & ~F.text.startswith("/")
ROLE_CHOICES = (Role.APPROVER, Role.UNIT_MANAGER, Role.EDITOR)
ROUTE_ACCOUNTS_PAGE = 20
PEOPLE_PAGE = 20  # people per page of a stage's approver picker


class RouteForm(StatesGroup):
    edit = State()
    name = State()
    sla = State()


def _can(actor: Actor | None, unit_id: int) -> Actor:
    checked = member(actor)
    if not can_edit_routes(checked, unit_id):
        raise PermissionDenied(NOT_ALLOWED)
    return checked


@router.message(Command("routes"))
async def routes_cmd(message: Message, session: AsyncSession, actor: Actor | None) -> None:
    checked = member(actor)
    if checked.is_admin:
        if not await people.list_units(session):
            await message.answer(_("还没有单位，请先用 /units 新增。"))
            return
        text, markup = await tree_view(session, UnitTree(purpose=UnitPurpose.ROUTES))
        await message.answer(_("选择要设置审核流程的单位：") + "\n\n" + text, reply_markup=markup)
        return
    if not can_edit_routes(checked, checked.unit_id):
        raise PermissionDenied(NOT_ALLOWED)
    text, markup = await _overview(session, checked, RouteOpen(unit_id=checked.unit_id or 0))
    await message.answer(text, reply_markup=markup)


async def _overview(
    session: AsyncSession, actor: Actor, view: RouteOpen
) -> tuple[str, InlineKeyboardMarkup]:
    """The unit's route and its accounts (each with its own route or the unit's), a page at a
    time so a unit with many accounts reaches every one."""
    unit_id = view.unit_id
    unit = await people.get_unit(session, unit_id)
    route = await routes.get_route(session, unit_id=unit_id)
    lines = [_("“{unit}”的审核流程").format(unit=esc(unit.name))]
    if route is None:
        lines.append(_("尚未设置：本单位账号暂不能提交送审稿。"))
    else:
        lines.append(await _describe(session, route.specs, unit_id))
        problem = await routes.route_problem(session, route)
        if problem is not None:
            lines.append(_("⚠️ 当前无法满足：") + error_text(problem))
    overrides = {r.account_id: r for r in await routes.account_overrides(session, unit_id=unit_id)}
    kb = Keyboard()
    kb.button(text=_("✏️ 编辑单位流程"), callback_data=RouteOpen(unit_id=unit_id, account_id=0))
    page = await list_accounts(
        session,
        actor=actor,
        filters=AccountFilter(unit_id=unit_id),
        cursor=cursor_of(view),
        page_size=ROUTE_ACCOUNTS_PAGE,
    )
    lines.append(_("本单位账号：{span}").format(span=span_text(page)))
    for account in page.rows:
        mark = _("专用流程") if account.id in overrides else _("沿用单位流程")
        kb.button(
            text=f"{account.name}（{platform_label(account.platform)}）· {mark}",
            callback_data=RouteOpen(unit_id=unit_id, account_id=account.id or 0),
        )
    kb.adjust(1)
    kb.attach(nav_row(page, RouteOpen(unit_id=unit_id, account_id=-1)))
    return "\n".join(lines), kb.as_markup()


async def _describe(session: AsyncSession, stages: list[StageSpec], unit_id: int) -> str:
    lines = []
    for index, spec in enumerate(stages, start=1):
        who = await _approvers_text(session, spec, unit_id)
        lines.append(
            _("{n}. {name}：{who}；{rule}；时限 {hours} 小时").format(
                n=index,
                name=esc(spec.name),
                who=who,
                rule=rule_label(spec.rule),
                hours=spec.sla_hours,
            )
        )
    return "\n".join(lines)


async def _approvers_text(session: AsyncSession, spec: StageSpec, unit_id: int) -> str:
    parts = []
    if spec.role is not None:
        parts.append(_("本单位全部“{role}”").format(role=role_label(spec.role)))
    if spec.approver_ids:
        named = await people_names(session, spec.approver_ids)
        parts += [esc(n) for n in named]
    return "、".join(parts) or _("（未指定）")


async def people_names(session: AsyncSession, ids: tuple[int, ...]) -> list[str]:
    out = []
    for user_id in ids:
        user = await session.get(people.User, user_id)
        if user is not None:
            out.append(user.name + ("" if user.active else _("（已停用）")))
    return out


@router.callback_query(RouteOpen.filter(F.account_id == -1))
async def pick_unit(
    query: CallbackQuery, callback_data: RouteOpen, session: AsyncSession, actor: Actor | None
) -> None:
    """A unit picked for /routes (a new overview message), or a page of its account list."""
    checked = _can(actor, callback_data.unit_id)
    text, markup = await _overview(session, checked, callback_data)
    await query.answer()
    if cursor_of(callback_data) is None:
        await pressed_message(query).answer(text, reply_markup=markup)
    else:
        await turn_page(query, text, reply_markup=markup)


@router.callback_query(RouteOpen.filter(F.account_id >= 0))
async def open_editor(
    query: CallbackQuery,
    callback_data: RouteOpen,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    _can(actor, callback_data.unit_id)
    account_id = callback_data.account_id or None
    if account_id is not None:
        account = await session.get(Account, account_id)
        if account is None or account.unit_id != callback_data.unit_id:
            raise InvalidInput(N_("找不到该账号。"))
    route = await routes.get_route(session, unit_id=callback_data.unit_id, account_id=account_id)
    base = route or (
        await routes.get_route(session, unit_id=callback_data.unit_id) if account_id else None
    )
    stages = base.specs if base else default_stages()
    await state.set_state(RouteForm.edit)
    await state.set_data(
        {
            "unit_id": callback_data.unit_id,
            "account_id": account_id,
            "stages": [s.to_dict() for s in stages],
            "restart": base.restart_from_first if base else True,
            "require": base.require_review if base else True,
            "version": route.version if route else None,
            "exists": route is not None,
        }
    )
    await query.answer()
    await _editor(pressed_message(query), state, session, new=True)


async def _editor(
    target: Message | InaccessibleMessage, state: FSMContext, session: AsyncSession, *, new: bool
) -> None:
    data = await state.get_data()
    stages = stages_from(data["stages"])
    unit = await people.get_unit(session, data["unit_id"])
    scope = esc(unit.name)
    if data.get("account_id"):
        account = await session.get(Account, data["account_id"])
        scope += " / " + esc(account.name if account else "")
    lines = [
        _("编辑审核流程：{scope}").format(scope=scope),
        await _describe(session, stages, data["unit_id"]),
        _("退回后重新送审：{mode}").format(
            mode=_("从第一环节开始") if data["restart"] else _("从退回的环节开始")
        ),
        _("发布须经审核（未经审核发布将被标记）：{yes}").format(
            yes=_("是") if data["require"] else _("否")
        ),
        _("改好后点“保存”。"),
    ]
    kb = Keyboard()
    widths = []
    for index, spec in enumerate(stages):
        n = index + 1
        for action, label in (
            ("name", _("{n}.改名").format(n=n)),
            ("people", _("{n}.审核人").format(n=n)),
            ("rule", _("{n}.{rule}").format(n=n, rule=rule_label(spec.rule))),
            ("sla", _("{n}.时限").format(n=n)),
            ("del", _("{n}.删除").format(n=n)),
        ):
            kb.button(text=label, callback_data=RouteEdit(action=action, stage=index))
        widths.append(5)
    if len(stages) < STAGES_MAX:
        kb.button(text=_("➕ 增加环节"), callback_data=RouteEdit(action="add"))
        widths.append(1)
    kb.button(text=_("🔁 切换重新送审方式"), callback_data=RouteEdit(action="restart"))
    kb.button(text=_("🔒 切换是否须经审核"), callback_data=RouteEdit(action="require"))
    kb.button(text=_("💾 保存"), callback_data=RouteEdit(action="save"))
    kb.button(text=_("✖️ 取消"), callback_data=RouteEdit(action="cancel"))
    widths += [1, 1, 2]
    if data.get("account_id") and data.get("exists"):
        kb.button(text=_("🗑 删除专用流程（沿用单位流程）"), callback_data=RouteEdit(action="drop"))
        widths.append(1)
    kb.adjust(*widths)
    text = "\n".join(lines)
    if new:
        await target.answer(text, reply_markup=kb.as_markup())
    else:
        await editable(target).edit_text(text, reply_markup=kb.as_markup())


async def _store(state: FSMContext, stages: list[StageSpec], **extra: Any) -> None:
    await state.update_data(stages=[s.to_dict() for s in stages], **extra)


def _stage(stages: list[StageSpec], index: int) -> StageSpec:
    if not 0 <= index < len(stages):
        raise InvalidInput(N_("该环节已不存在，请重新打开 /routes。"))
    return stages[index]


@router.callback_query(RouteForm.edit, RouteEdit.filter(F.action.in_({"rule", "del", "add"})))
async def simple_edit(
    query: CallbackQuery,
    callback_data: RouteEdit,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    data = await state.get_data()
    _can(actor, data["unit_id"])
    stages = stages_from(data["stages"])
    if callback_data.action == "rule":
        spec = _stage(stages, callback_data.stage)
        rule = StageRule.ALL if spec.rule is StageRule.ANY else StageRule.ANY
        stages[callback_data.stage] = StageSpec(
            spec.name, rule, spec.sla_hours, spec.approver_ids, spec.role
        )
    elif callback_data.action == "del":
        _stage(stages, callback_data.stage)
        if len(stages) == 1:
            raise InvalidInput(N_("审核流程至少需要一个环节。"))
        del stages[callback_data.stage]
    elif len(stages) < STAGES_MAX:
        stages.append(StageSpec(name=_("第{n}审").format(n=len(stages) + 1), role=Role.APPROVER))
    await _store(state, stages)
    await query.answer()
    await _editor(pressed_message(query), state, session, new=False)


@router.callback_query(RouteForm.edit, RouteEdit.filter(F.action.in_({"restart", "require"})))
async def toggle(
    query: CallbackQuery,
    callback_data: RouteEdit,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    data = await state.get_data()
    _can(actor, data["unit_id"])
    key = callback_data.action
    await state.update_data({key: not data[key]})
    await query.answer()
    await _editor(pressed_message(query), state, session, new=False)


@router.callback_query(RouteForm.edit, RouteEdit.filter(F.action.in_({"name", "sla"})))
async def ask_text(
    query: CallbackQuery, callback_data: RouteEdit, state: FSMContext, actor: Actor | None
) -> None:
    data = await state.get_data()
    _can(actor, data["unit_id"])
    _stage(stages_from(data["stages"]), callback_data.stage)
    await state.update_data(editing=callback_data.stage)
    if callback_data.action == "name":
        await state.set_state(RouteForm.name)
        prompt = _("请输入第 {n} 环节的名称（如 初审、复审、终审）。").format(
            n=callback_data.stage + 1
        )
    else:
        await state.set_state(RouteForm.sla)
        prompt = _("请输入第 {n} 环节的审核时限（小时，1–720）。").format(n=callback_data.stage + 1)
    await query.answer()
    await reply_to(query, prompt)


@router.message(RouteForm.name, TEXT)
async def got_name(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    stages = stages_from(data["stages"])
    spec = _stage(stages, data["editing"])
    stages[data["editing"]] = StageSpec(
        validate_stage_name(message.text), spec.rule, spec.sla_hours, spec.approver_ids, spec.role
    )
    await _store(state, stages)
    await state.set_state(RouteForm.edit)
    await _editor(message, state, session, new=True)


@router.message(RouteForm.sla, TEXT)
async def got_sla(message: Message, state: FSMContext, session: AsyncSession) -> None:
    data = await state.get_data()
    stages = stages_from(data["stages"])
    spec = _stage(stages, data["editing"])
    stages[data["editing"]] = StageSpec(
        spec.name, spec.rule, validate_sla(message.text), spec.approver_ids, spec.role
    )
    await _store(state, stages)
    await state.set_state(RouteForm.edit)
    await _editor(message, state, session, new=True)


async def _people_picker(
    target: Message, session: AsyncSession, data: dict[str, Any], index: int
) -> None:
    """The stage's approvers to tick, a page of the unit's people at a time (the page shown is
    kept in the dialog, so ticking someone re-shows the same page)."""
    spec = _stage(stages_from(data["stages"]), index)
    key, rid, back = data.get("people_page", (0, 0, False))
    page = await people.active_staff_page(
        session,
        unit_id=data["unit_id"],
        cursor=cursor_of(RouteEdit(action="people", key=key, rid=rid, back=back)),
        size=PEOPLE_PAGE,
    )
    kb = Keyboard()
    for user in page.rows:
        mark = "☑️" if user.id in spec.approver_ids else "⬜"
        kb.button(
            text=f"{mark} {user.name[:24]}",
            callback_data=RouteEdit(action="person", stage=index, value=user.id or 0),
        )
    for number, role in enumerate(ROLE_CHOICES):
        mark = "☑️" if spec.role is role else "⬜"
        kb.button(
            text=_("{mark} 本单位全部“{role}”").format(mark=mark, role=role_label(role)),
            callback_data=RouteEdit(action="role", stage=index, value=number),
        )
    kb.button(text=_("完成"), callback_data=RouteEdit(action="back"))
    kb.adjust(2)
    kb.attach(nav_row(page, RouteEdit(action="people", stage=index)))
    await target.edit_text(
        _("选择第 {n} 环节“{name}”的审核人（可多选，也可按角色）：").format(
            n=index + 1, name=esc(spec.name)
        )
        + "\n"
        + span_text(page),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(
    RouteForm.edit, RouteEdit.filter(F.action.in_({"people", "person", "role", "back"}))
)
async def pick_people(
    query: CallbackQuery,
    callback_data: RouteEdit,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    data = await state.get_data()
    _can(actor, data["unit_id"])
    await query.answer()
    if callback_data.action == "back":
        await _editor(pressed_message(query), state, session, new=False)
        return
    stages = stages_from(data["stages"])
    spec = _stage(stages, callback_data.stage)
    if callback_data.action == "people":
        page = (callback_data.key, callback_data.rid, callback_data.back)
        await state.update_data(people_page=page)
    if callback_data.action == "person":
        user = await session.get(people.User, callback_data.value)
        if user is None or user.unit_id != data["unit_id"]:
            raise InvalidInput(N_("审核人必须是本单位的人员。"))
        ids = set(spec.approver_ids) ^ {callback_data.value}
        spec = StageSpec(spec.name, spec.rule, spec.sla_hours, tuple(sorted(ids)), spec.role)
    elif callback_data.action == "role":
        if not 0 <= callback_data.value < len(ROLE_CHOICES):
            raise InvalidInput(N_("请选择一个角色。"))
        role = ROLE_CHOICES[callback_data.value]
        spec = StageSpec(
            spec.name,
            spec.rule,
            spec.sla_hours,
            spec.approver_ids,
            None if spec.role is role else role,
        )
    stages[callback_data.stage] = spec
    await _store(state, stages)
    await _people_picker(
        editable(pressed_message(query)), session, await state.get_data(), callback_data.stage
    )


@router.callback_query(RouteForm.edit, RouteEdit.filter(F.action == "save"))
async def save(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    data = await state.get_data()
    checked = _can(actor, data["unit_id"])
    await routes.save_route(
        session,
        actor=checked,
        unit_id=data["unit_id"],
        account_id=data.get("account_id"),
        stages=stages_from(data["stages"]),
        restart_from_first=data["restart"],
        require_review=data["require"],
        version=data.get("version"),
        now=clock.now(),
    )
    await state.clear()
    await query.answer(_("已保存"))
    await edit_or_send(
        query,
        _("✅ 审核流程已保存。")
        + "\n"
        + await _describe(session, stages_from(data["stages"]), data["unit_id"]),
    )


@router.callback_query(RouteForm.edit, RouteEdit.filter(F.action == "drop"))
async def drop(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    data = await state.get_data()
    checked = _can(actor, data["unit_id"])
    route = await routes.get_route(session, unit_id=data["unit_id"], account_id=data["account_id"])
    if route is not None:
        await routes.delete_override(
            session, actor=checked, route_id=route.id or 0, now=clock.now()
        )
    await state.clear()
    await query.answer(_("已删除"))
    await edit_or_send(query, _("已删除该账号的专用审核流程，今后沿用单位流程。"))


@router.callback_query(RouteEdit.filter(F.action == "cancel"))
async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("已取消"))
    await edit_or_send(query, _("未保存，审核流程没有改变。"))
