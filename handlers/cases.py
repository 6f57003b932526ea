"""/cases and the case card: explain, record a 约谈, close or extend, open a case by hand.

Thin: each button names a case id; who may act is decided by :mod:`models.cases` against the
database. Dialog state commits with the update's data (bot/transaction.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.cases import (
    ACTIVE_STATUSES,
    EXPLANATION_MAX,
    EXPLANATION_MIN,
    can_decide_case,
    can_explain,
    can_open_case,
    can_record_interview,
)
from governance.clock import Clock
from governance.errors import NotFound, PermissionDenied, StaleAction
from governance.i18n import N_
from governance.roles import Actor
from handlers.callbacks import CaseAct, CaseList, CaseNew, CaseOpen, DialogCancel
from handlers.caseviews import case_list_view, case_view
from handlers.guards import member
from handlers.keyboards import Keyboard
from handlers.render import audit_label, esc, when
from handlers.replies import reply_to, turn_page
from models import accounts, audit, cases, findings, people
from models.cases import Case, deadline_text
from models.findings import FindingStatus, StoredFinding
from workflows import cases as rectification

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)


class CaseDialog(StatesGroup):
    explanation = State()
    interview = State()
    notice_url = State()
    resolve_reason = State()
    waive_reason = State()
    new_case = State()


# --- /cases -----------------------------------------------------------------------------------


@router.message(Command("cases"))
async def list_cases(
    message: Message, session: AsyncSession, actor: Actor | None, settings: Settings
) -> None:
    checked = member(actor)
    text, markup = await case_list_view(session, checked, CaseList(), settings.tz)
    await message.answer(text, reply_markup=markup)


@router.callback_query(CaseList.filter())
async def list_button(
    query: CallbackQuery,
    callback_data: CaseList,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    text, markup = await case_list_view(session, checked, callback_data, settings.tz)
    await query.answer()
    await turn_page(query, text, reply_markup=markup)


# --- the case card ----------------------------------------------------------------------------


@router.callback_query(CaseOpen.filter())
async def open_case(
    query: CallbackQuery,
    callback_data: CaseOpen,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    case = await cases.get_visible_case(session, case_id=callback_data.case_id, actor=checked)
    text, markup = await case_view(session, checked, case, settings.tz)
    await query.answer()
    await reply_to(query, text, reply_markup=markup)


# --- actions that ask for a text first -----------------------------------------------------------

PROMPTS = {
    "explain": (
        CaseDialog.explanation,
        N_("请发送整改说明：已采取的措施、目前进展（{min}-{max} 字）。"),
    ),
    "interview": (CaseDialog.interview, N_("请简要记录约谈情况：时间、约谈对象、整改要求。")),
    "close": (
        CaseDialog.notice_url,
        N_("请发送该账号停更公告的链接（http:// 或 https:// 开头）。"),
    ),
    "resolve": (CaseDialog.resolve_reason, N_("请说明整改完成情况（将记入整改记录）。")),
    "waive": (CaseDialog.waive_reason, N_("请说明豁免该问题的理由（将记入审计记录）。")),
}


@router.callback_query(CaseAct.filter(F.action.in_(set(PROMPTS))))
async def ask_text(
    query: CallbackQuery,
    callback_data: CaseAct,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    checked = member(actor)
    case = await cases.get_visible_case(session, case_id=callback_data.case_id, actor=checked)
    if case.status not in ACTIVE_STATUSES:
        raise StaleAction(N_("该整改已办结。"))
    account = await accounts.get_account(session, case.account_id)
    action = callback_data.action
    allowed = {
        "explain": can_explain(
            checked, responsible_id=account.responsible_id, unit_id=case.unit_id
        ),
        "interview": can_record_interview(checked, case.unit_id),
    }.get(action, can_decide_case(checked))
    if not allowed:
        raise PermissionDenied(
            {
                "explain": N_("只有该账号的责任人可以提交整改说明。"),
                "interview": N_("只有本单位管理员或管理员可以记录约谈。"),
            }.get(action, N_("只有管理员可以执行此操作。"))
        )
    if action == "waive" and not (
        0 <= callback_data.item < len(case.problems)
        and case.problems[callback_data.item].get("kind") == "finding"
    ):
        raise NotFound(N_("找不到该问题。"))
    target, prompt = PROMPTS[action]
    await state.set_state(target)
    await state.set_data(
        {"case_id": case.id, "version": callback_data.version, "item": callback_data.item}
    )
    kb = Keyboard()
    kb.button(text=_("取消"), callback_data=DialogCancel())
    await query.answer()
    await reply_to(
        query,
        _(prompt).format(min=EXPLANATION_MIN, max=EXPLANATION_MAX)
        + "\n"
        + _("发送 /cancel 取消。"),
        reply_markup=kb.as_markup(),
    )


async def _done(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    case: Case,
    settings: Settings,
    note: str,
) -> None:
    await state.clear()
    text, markup = await case_view(session, actor, case, settings.tz)
    await message.answer(note + "\n\n" + text, reply_markup=markup, disable_web_page_preview=True)


#: The one-line answers of the case dialog: the service that takes it, the name it takes the
#: text under, and what the person is told when it worked.
TEXT_STEPS: dict[str | None, tuple[Callable[..., Awaitable[Case]], str, str]] = {
    CaseDialog.explanation.state: (rectification.explain, "text", N_("✅ 整改说明已提交。")),
    CaseDialog.interview.state: (rectification.record_interview, "note", N_("✅ 约谈情况已记录。")),
    CaseDialog.notice_url.state: (
        rectification.close_account,
        "notice_url",
        N_("✅ 已确认关停，账号状态已变更为“关停”。"),
    ),
    CaseDialog.resolve_reason.state: (
        rectification.resolve_by_hand,
        "reason",
        N_("✅ 整改已办结。"),
    ),
}


@router.message(StateFilter(*(s for s in TEXT_STEPS if s)), F.text & ~F.text.startswith("/"))
async def got_text(
    message: Message,
    state: FSMContext,
    raw_state: str | None,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    data = await state.get_data()
    service, field, done = TEXT_STEPS[raw_state]
    extra = (
        {"version": data.get("version") or None} if service is rectification.close_account else {}
    )
    case = await service(
        session,
        case_id=data["case_id"],
        actor=checked,
        now=clock.now(),
        policy=settings.case_policy(),
        **{field: message.text},
        **extra,
    )
    await _done(message, state, session, checked, case, settings, _(done))


@router.message(CaseDialog.waive_reason, F.text & ~F.text.startswith("/"))
async def got_waiver(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    data = await state.get_data()
    case = await cases.get_visible_case(session, case_id=data["case_id"], actor=checked)
    problem = case.problems[data["item"]] if data["item"] < len(case.problems) else {}
    finding = await session.get(StoredFinding, int(problem.get("finding_id") or 0))
    if finding is not None and (
        finding.account_id != case.account_id or finding.status != FindingStatus.OPEN
    ):
        finding = None
    if finding is None:
        raise StaleAction(N_("该问题已处理。"))
    now = clock.now()
    await findings.waive(
        session, finding_id=finding.id or 0, actor=checked, reason=message.text or "", now=now
    )
    await rectification.resolve_fixed_findings(
        session, account_id=case.account_id, now=now, policy=settings.case_policy()
    )
    await session.refresh(case)
    await _done(message, state, session, checked, case, settings, _("✅ 问题已豁免。"))


@router.callback_query(CaseAct.filter(F.action == "extend"))
async def extend(
    query: CallbackQuery,
    callback_data: CaseAct,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    case = await rectification.extend(
        session,
        case_id=callback_data.case_id,
        actor=checked,
        now=clock.now(),
        policy=settings.case_policy(),
        version=callback_data.version or None,
    )
    text, markup = await case_view(session, checked, case, settings.tz)
    await query.answer(_("已延期"))
    await reply_to(
        query,
        _("✅ 已延期，新的期限：{deadline}。").format(
            deadline=deadline_text(case.deadline, settings.tz)
        )
        + "\n\n"
        + text,
        reply_markup=markup,
    )


@router.callback_query(CaseAct.filter(F.action == "history"))
async def history(
    query: CallbackQuery,
    callback_data: CaseAct,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    case = await cases.get_visible_case(session, case_id=callback_data.case_id, actor=checked)
    entries = await audit.history(session, object_type="case", object_id=case.id, limit=20)
    lines = [_("整改 #{id} 的记录：").format(id=case.id)]
    for entry in reversed(entries):
        who = _("系统")
        if entry.actor_id:
            person = await session.get(people.User, entry.actor_id)
            who = esc(person.name) if person else "?"
        line = f"{when(entry.at, settings.tz)} · {who} · {audit_label(entry.action)}"
        if entry.note and entry.action != "case.closed":
            line += f"（{esc(entry.note[:80])}）"
        lines.append(line)
    await query.answer()
    await reply_to(query, "\n".join(lines))


# --- a case opened by hand from the account card -------------------------------------------------


@router.callback_query(CaseNew.filter())
async def new_case(
    query: CallbackQuery,
    callback_data: CaseNew,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    checked = member(actor)
    account = await accounts.get_visible_account(
        session, account_id=callback_data.account_id, actor=checked
    )
    if not can_open_case(checked, account.unit_id):
        raise PermissionDenied(N_("只有管理员和本单位管理员可以发起整改。"))
    await state.set_state(CaseDialog.new_case)
    await state.set_data({"account_id": account.id})
    await query.answer()
    await reply_to(
        query,
        _(
            "对“{name}”发起整改：请发送需要整改的事项（4-500 字）。"
            "该账号当前未处理的内容问题将一并纳入。发送 /cancel 取消。"
        ).format(name=esc(account.name)),
    )


@router.message(CaseDialog.new_case, F.text & ~F.text.startswith("/"))
async def got_new_case(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    data = await state.get_data()
    case = await rectification.open_by_hand(
        session,
        account_id=data["account_id"],
        actor=checked,
        description=message.text,
        now=clock.now(),
        policy=settings.case_policy(),
    )
    await _done(
        message, state, session, checked, case, settings, _("✅ 已发起整改，已通知责任人。")
    )
