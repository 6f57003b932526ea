"""/report (报告): a period, a scope, then a short summary, the workbook and the charts.

Admins report on everything or on one unit; a unit manager on their own unit only (checked again
when each button is pressed). Dates typed as ``2026-01-01~2026-03-31`` make a custom period. The
quarterly inspection (季度抽查) draws a random sample with a fresh seed, records the seed in the
audit log and in the workbook, so the same draw can be repeated and checked.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from documents.reports import file_name, render
from documents.reporttext import summary_lines
from governance.clock import Clock
from governance.errors import InvalidInput, PermissionDenied
from governance.i18n import N_
from governance.periods import MAX_PERIOD_DAYS, PERIOD_LABELS, Period, parse_dates, period_for
from governance.roles import Actor
from handlers.callbacks import DialogCancel, ReportPeriod, ReportScope, ReportUnits
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import esc
from handlers.replies import pressed_message, reply_to, turn_page
from models import people, reports

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员和单位管理员可以生成报告。")
OTHER_UNIT = N_("单位管理员只能生成本单位的报告。")
NO_UNIT = N_("你还没有所属单位，无法生成报告。")
BAD_BUTTON = N_("这个按钮已失效，请重新发送 /report。")
SCOPE_PAGE = 20  # units per page of the scope keyboard
MENU_KINDS = ("week", "month", "last_month", "quarter", "last_quarter", "year", "dates")
INSPECT = "inspect"


class ReportDates(StatesGroup):
    dates = State()  # waiting for "2026-01-01~2026-03-31"


def _reporter(actor: Actor) -> bool:
    return actor.is_admin or actor.is_unit_manager


def _day(value: date) -> int:
    return value.year * 10000 + value.month * 100 + value.day


def _from_day(value: int) -> date:
    return date(value // 10000, value // 100 % 100, value % 100)


def _period(data: ReportScope) -> Period:
    """The period a button carries, checked again: callback data can be forged."""
    try:
        start, end = _from_day(data.start), _from_day(data.end)
    except ValueError:
        raise InvalidInput(BAD_BUTTON) from None
    if end < start or (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(BAD_BUTTON)
    return Period(start, end, data.kind)


@router.message(Command("report"))
async def menu(message: Message, actor: Actor | None, state: FSMContext) -> None:
    require(actor, _reporter, NOT_ALLOWED)
    await state.clear()
    kb = Keyboard()
    for kind in MENU_KINDS:
        kb.button(text=_(PERIOD_LABELS[kind]), callback_data=ReportPeriod(kind=kind))
    kb.button(text=_("🎲 季度抽查"), callback_data=ReportPeriod(kind=INSPECT))
    kb.adjust(3, 3, 2)
    await message.answer(
        _(
            "生成报告：请选择时段。报告含摘要、Excel 工作簿（账号、单位、问题明细、得分）和图表；"
            "“季度抽查”按比例随机抽取在用账号，逐个判定合格或不合格。"
        ),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(ReportPeriod.filter(F.kind == "dates"))
async def ask_dates(query: CallbackQuery, actor: Actor | None, state: FSMContext) -> None:
    require(actor, _reporter, NOT_ALLOWED)
    await state.set_state(ReportDates.dates)
    kb = Keyboard()
    kb.button(text=_("取消"), callback_data=DialogCancel())
    await query.answer()
    await reply_to(
        query, _("请输入起止日期，格式如 2026-01-01~2026-03-31："), reply_markup=kb.as_markup()
    )


@router.message(ReportDates.dates, F.text)
async def typed_dates(
    message: Message,
    session: AsyncSession,
    actor: Actor | None,
    state: FSMContext,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = require(actor, _reporter, NOT_ALLOWED)
    today = clock.now().astimezone(settings.tz).date()
    period = parse_dates(message.text or "", today)
    await state.clear()
    await _choose_scope(message, session, checked, "dates", period)


@router.callback_query(ReportPeriod.filter())
async def chose_period(
    query: CallbackQuery,
    callback_data: ReportPeriod,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = require(actor, _reporter, NOT_ALLOWED)
    today = clock.now().astimezone(settings.tz).date()
    kind = callback_data.kind
    period = period_for("quarter" if kind == INSPECT else kind, today)
    await query.answer()
    await _choose_scope(pressed_message(query), session, checked, kind, period)


async def _choose_scope(
    message: Message | InaccessibleMessage,
    session: AsyncSession,
    actor: Actor,
    kind: str,
    period: Period,
) -> None:
    """Admins pick all units or one; a unit manager's report is of their unit, no question."""
    start, end = _day(period.start), _day(period.end)
    if actor.is_admin:
        text, markup = await _scope_page(session, ReportUnits(kind=kind, start=start, end=end))
        await message.answer(
            _("时段：{period}。请选择范围：").format(period=esc(period.label)) + "\n" + text,
            reply_markup=markup,
        )
        return
    if actor.unit_id is None:
        raise PermissionDenied(NO_UNIT)
    unit = await people.get_unit(session, actor.unit_id)
    kb = Keyboard()
    kb.button(
        text=unit.name,
        callback_data=ReportScope(kind=kind, start=start, end=end, unit_id=unit.id or 0),
    )
    await message.answer(
        _("时段：{period}。请选择范围：").format(period=esc(period.label)),
        reply_markup=kb.as_markup(),
    )


async def _scope_page(
    session: AsyncSession, query: ReportUnits
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of the units an admin may report on, after "all units"."""
    page = await people.units_page(session, cursor=cursor_of(query), size=SCOPE_PAGE)
    scope = {"kind": query.kind, "start": query.start, "end": query.end}
    kb = Keyboard()
    kb.button(text=_("全部单位"), callback_data=ReportScope(**scope))
    for unit in page.rows:
        kb.button(text=unit.name[:30], callback_data=ReportScope(**scope, unit_id=unit.id or 0))
    kb.adjust(2)
    kb.attach(nav_row(page, query))
    return _("单位：{span}").format(span=span_text(page)), kb.as_markup()


@router.callback_query(ReportUnits.filter())
async def scope_page(
    query: CallbackQuery, callback_data: ReportUnits, session: AsyncSession, actor: Actor | None
) -> None:
    require(actor, lambda a: a.is_admin, NOT_ALLOWED)
    text, markup = await _scope_page(session, callback_data)
    await query.answer()
    await turn_page(query, _("请选择范围：") + "\n" + text, reply_markup=markup)


@router.callback_query(ReportScope.filter())
async def build(
    query: CallbackQuery,
    callback_data: ReportScope,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = require(actor, _reporter, NOT_ALLOWED)
    unit_id = callback_data.unit_id or None
    if not checked.is_admin and (unit_id is None or unit_id != checked.unit_id):
        raise PermissionDenied(OTHER_UNIT)
    scope = _("全部单位") if unit_id is None else (await people.get_unit(session, unit_id)).name
    kind = callback_data.kind
    period = _period(callback_data)
    now = clock.now()
    seed = secrets.randbelow(1_000_000) if kind == INSPECT else None
    await query.answer(_("正在生成报告…"))
    report = await reports.make_report(
        session,
        period=period,
        unit_id=unit_id,
        scope=scope,
        now=now,
        tz=settings.tz,
        rules=settings.scoring_rules(),
        thresholds=settings.activity_thresholds(),
        inspection_seed=seed,
        website_rules=settings.website_rules(),
    )
    if report.inspection is not None:
        await reports.record_inspection(
            session, report=report, actor_id=checked.user_id, unit_id=unit_id, now=now
        )
        await session.commit()  # release the write before the slow render below
    files = await asyncio.to_thread(render, report, tz=settings.tz, tr=_)
    title = _("📋 季度抽查") if report.inspection is not None else _("📊 政务新媒体报告")
    text = "\n".join([f"<b>{title}</b>", *(esc(line) for line in summary_lines(report, _))])
    message = query.message
    assert message is not None
    await message.answer(text)
    await message.answer_document(
        BufferedInputFile(files.workbook, filename=file_name(report)),
        caption=_("报告工作簿：概况、账号、单位、问题明细{more}。").format(
            more=_("、抽查") if report.inspection is not None else ""
        ),
    )
    for name, chart_title, png in files.charts:
        await message.answer_photo(BufferedInputFile(png, filename=name), caption=esc(chart_title))


@router.message(StateFilter(ReportDates.dates))
async def not_dates(message: Message) -> None:
    await message.answer(_("请输入起止日期，格式如 2026-01-01~2026-03-31，或按“取消”。"))
