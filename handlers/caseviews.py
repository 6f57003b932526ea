"""What /cases shows: a case's line and status, the list of active cases and a case's card with
its buttons; split from :mod:`handlers.cases`, whose handlers act on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.cases import (
    ACTIVE_STATUSES,
    CASE_STATUS_LABELS,
    CaseKind,
    CaseStatus,
    Level,
    can_decide_case,
    can_explain,
    can_extend,
    can_record_interview,
)
from governance.errors import PermissionDenied
from governance.i18n import N_
from governance.roles import Actor
from handlers.callbacks import AccOpen, CaseAct, CaseList, CaseOpen, UnitPurpose, UnitTree
from handlers.case_notices import case_kind_label, problem_line
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import esc, when
from models import accounts, cases, people
from models.cases import Case, deadline_text

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

PAGE_SIZE = 10  # a page stays well within Telegram's 4096 characters


def status_text(case: Case) -> str:
    try:
        label = _(CASE_STATUS_LABELS[case.status])
    except ValueError:
        label = esc(case.status)
    icon = {"open": "🟠", "explained": "🔵", "overdue": "🔴", "resolved": "✅", "closed": "⛔"}
    return f"{icon.get(case.status, '')}{label}"


def case_line(case: Case, name: str, tz: ZoneInfo) -> str:
    """One case in a list or on the account card."""
    level = _("（已约谈）") if case.interviewed_at else ""
    if case.status in {s.value for s in ACTIVE_STATUSES}:
        tail = _("期限 {deadline}").format(deadline=deadline_text(case.deadline, tz))
    else:
        tail = when(case.resolved_at or case.closed_at or case.updated_at, tz)[:10]
    return (
        f"#{case.id} {esc(name)} · {case_kind_label(case.kind)} · {status_text(case)}{level} · "
        + tail
    )


async def case_list_view(
    session: AsyncSession, actor: Actor, query: CaseList, tz: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup]:
    unit_id = query.unit_id or None
    if unit_id and not (actor.is_admin or actor.belongs_to(unit_id)):
        raise PermissionDenied(N_("你只能查看本单位的整改。"))
    page = await cases.cases_page(
        session,
        actor=actor,
        unit_id=unit_id,
        status=query.status,
        cursor=cursor_of(query),
        size=PAGE_SIZE,
    )
    units = await people.unit_names(
        session, unit_ids={c.unit_id for c in page.rows} | {unit_id or 0}
    )
    names = {
        a.id: a.name
        for a in await session.exec(
            select(accounts.Account).where(
                col(accounts.Account.id).in_({c.account_id for c in page.rows})
            )
        )
    }
    scope = _("（单位：{unit}）").format(unit=esc(units.get(unit_id, "?"))) if unit_id else ""
    if query.status is None:
        overdue = await cases.count_in_status(
            session, actor=actor, unit_id=unit_id, status=CaseStatus.OVERDUE
        )
        head = _("<b>📋 在办整改</b>：共 {n} 件，其中逾期 {overdue} 件").format(
            n=page.total, overdue=overdue
        )
    else:
        head = _("<b>📋 整改（{status}）</b>：共 {n} 件").format(
            status=_(CASE_STATUS_LABELS[query.status]), n=page.total
        )
    lines = [head + scope] + ([span_text(page, total=False)] if page.rows else [])
    kb = Keyboard()
    for case in page.rows:
        line = case_line(case, names.get(case.account_id, "?"), tz)
        if not unit_id:
            line += f" · {esc(units.get(case.unit_id, '?'))}"
        lines.append(line)
        kb.button(
            text=f"#{case.id} {names.get(case.account_id, '?')[:18]}",
            callback_data=CaseOpen(case_id=case.id or 0),
        )
    if not page.rows:
        lines.append(_("没有在办的整改。") if query.status is None else _("没有符合条件的整改。"))
    kb.adjust(2)
    kb.attach(nav_row(page, query))
    filters = Keyboard()
    if query.status is not None:
        filters.button(text=_("在办"), callback_data=CaseList(unit_id=query.unit_id))
    for status in CaseStatus:
        if status is not query.status:
            filters.button(
                text=_(CASE_STATUS_LABELS[status]),
                callback_data=CaseList(unit_id=query.unit_id, status=status),
            )
    if actor.is_admin:
        filters.button(text=_("按单位"), callback_data=UnitTree(purpose=UnitPurpose.CASES))
        if unit_id:
            filters.button(text=_("全部单位"), callback_data=CaseList(status=query.status))
    filters.adjust(3)
    kb.attach(filters)
    return "\n".join(lines), kb.as_markup()


async def case_view(
    session: AsyncSession, actor: Actor, case: Case, tz: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup]:
    account = await accounts.get_account(session, case.account_id)
    unit = await session.get(people.Unit, case.unit_id)
    responsible, pending = await accounts.responsible_of(session, account)
    lines = [
        _("<b>整改 #{id}</b>：{name}（{unit}）").format(
            id=case.id, name=esc(account.name), unit=esc(unit.name if unit else "?")
        ),
        _("类型：{kind}；状态：{status}").format(
            kind=case_kind_label(case.kind), status=status_text(case)
        ),
        _("责任人：{person}").format(
            person=esc(responsible.name) if responsible else esc(pending or "—")
        ),
        _("发起：{at}；整改期限：{deadline}").format(
            at=when(case.opened_at, tz), deadline=deadline_text(case.deadline, tz)
        ),
        _("问题："),
        *("• " + problem_line(p) for p in case.problems[:10]),
    ]
    if case.explanation:
        lines.append(
            _("整改说明（{at}）：{text}").format(
                at=when(case.explained_at, tz), text=esc(case.explanation)
            )
        )
    if case.level >= Level.MANAGER:
        lines.append(
            _("约谈：{note}").format(
                note=esc(case.interview_note) if case.interview_note else _("尚未记录")
            )
        )
    if case.resolution:
        lines.append(
            _("办结（{at}）：{text}").format(
                at=when(case.resolved_at, tz), text=esc(_(case.resolution))
            )
        )
    if case.notice_url:
        lines.append(_("停更公告：{url}").format(url=esc(case.notice_url)))
    kb = Keyboard()
    status, cid, v = case.status, case.id or 0, case.version
    if status in ACTIVE_STATUSES:
        if can_explain(actor, responsible_id=account.responsible_id, unit_id=case.unit_id):
            kb.button(
                text=_("✍️ 提交整改说明"), callback_data=CaseAct(case_id=cid, action="explain")
            )
        if (
            case.level >= Level.MANAGER
            and not case.interviewed_at
            and can_record_interview(actor, case.unit_id)
        ):
            kb.button(text=_("🗣 记录约谈"), callback_data=CaseAct(case_id=cid, action="interview"))
        if can_decide_case(actor):
            if can_extend(status, Level(min(case.level, Level.ADMINS))):
                kb.button(
                    text=_("⛔ 确认关停"),
                    callback_data=CaseAct(case_id=cid, action="close", version=v),
                )
                kb.button(
                    text=_("⏳ 延期整改"),
                    callback_data=CaseAct(case_id=cid, action="extend", version=v),
                )
            if case.kind == CaseKind.MANUAL:
                kb.button(
                    text=_("✅ 确认已整改"), callback_data=CaseAct(case_id=cid, action="resolve")
                )
            for index, problem in enumerate(case.problems[:10]):
                if problem.get("kind") == "finding":
                    kb.button(
                        text=_("豁免：{what}").format(what=str(problem.get("text", ""))[:16]),
                        callback_data=CaseAct(case_id=cid, action="waive", item=index),
                    )
    kb.button(text=_("📜 整改记录"), callback_data=CaseAct(case_id=cid, action="history"))
    kb.button(text=_("查看账号"), callback_data=AccOpen(account_id=case.account_id))
    kb.adjust(1)
    return "\n".join(lines), kb.as_markup()
