"""What /accounts shows: the filtered, paged list and an account's card with its buttons; split
from :mod:`handlers.accounts`, whose handlers act on them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import PermissionDenied
from governance.i18n import N_
from governance.registry import TRANSITIONS, AccountStatus
from governance.roles import (
    Actor,
    can_change_account_status,
    can_edit_account,
    can_view_account,
)
from handlers.callbacks import (
    AccAction,
    AccFilterMenu,
    AccList,
    AccOpen,
    CaseNew,
    CaseOpen,
    CheckAccount,
    UnitPurpose,
    UnitTree,
)
from handlers.caseviews import case_line
from handlers.keyboards import Keyboard
from handlers.monitoring import activity_section
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import account_card, esc, findings_section, platform_label, status_label
from models import accounts, cases, findings, people
from models.accounts import Account, AccountFilter
from models.activity import account_activity
from models.cases import ACTIVE_VALUES, CASE_ACCOUNT_STATUSES, Case
from models.feeds import POLLED_STATUSES

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.settings import Settings

PAGE_SIZE = 8
STATUS_ACTIONS = {
    "suspend": AccountStatus.SUSPENDED,
    "resume": AccountStatus.ACTIVE,
    "close": AccountStatus.CLOSED,
    "cancel": AccountStatus.CANCELLED,
}
ACTION_LABELS = {
    "suspend": N_("⏸ 暂停"),
    "resume": N_("▶️ 恢复在用"),
    "close": N_("⛔ 关停"),
    "cancel": N_("🗑 注销"),
}


async def list_view(
    session: AsyncSession, actor: Actor, query: AccList
) -> tuple[str, InlineKeyboardMarkup]:
    filters = AccountFilter(
        unit_id=query.unit_id or None, platform=query.platform or None, status=query.status or None
    )
    if filters.unit_id and not can_view_account(actor, filters.unit_id):
        raise PermissionDenied(N_("你只能查看本单位的账号。"))
    page = await accounts.list_accounts(
        session, actor=actor, filters=filters, cursor=cursor_of(query), page_size=PAGE_SIZE
    )
    units = await people.unit_names(
        session, unit_ids={a.unit_id for a in page.rows} | {filters.unit_id or 0}
    )
    active = []
    if filters.unit_id:
        active.append(esc(units.get(filters.unit_id, "?")))
    if filters.platform:
        active.append(platform_label(filters.platform))
    if filters.status:
        active.append(status_label(filters.status))
    lines = [
        _("账号台账：共 {n} 个").format(n=page.total)
        + (_("（筛选：{f}）").format(f="、".join(active)) if active else "")
        + "，"
        + span_text(page, total=False)
    ]
    kb = Keyboard()
    for account in page.rows:
        lines.append(
            f"#{account.id} {esc(account.name)} · {platform_label(account.platform)} · "
            f"{esc(units.get(account.unit_id, '?'))} · {status_label(account.status)}"
        )
        kb.button(
            text=f"#{account.id} {account.name[:20]}",
            callback_data=AccOpen(account_id=account.id or 0),
        )
    if not page.rows:
        lines.append(_("没有符合条件的账号。"))
    kb.adjust(2)
    kb.attach(nav_row(page, query))
    nav = Keyboard()
    base = {"unit_id": query.unit_id, "platform": query.platform, "status": query.status}
    if actor.is_admin:
        nav.button(text=_("按单位"), callback_data=UnitTree(purpose=UnitPurpose.ACCOUNTS))
    nav.button(text=_("按平台"), callback_data=AccFilterMenu(kind="platform", **base))
    nav.button(text=_("按状态"), callback_data=AccFilterMenu(kind="status", **base))
    if active:
        nav.button(text=_("清除筛选"), callback_data=AccList())
    nav.adjust(3)
    kb.attach(nav)
    return "\n".join(lines), kb.as_markup()


async def account_view(
    session: AsyncSession, actor: Actor, account: Account, settings: Settings, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    around = await accounts.card_context(session, account)
    # read once: the card lists up to five cases and gives the active ones among them buttons
    account_cases = await cases.account_cases(session, account_id=account.id or 0, limit=5)
    text = account_card(
        account,
        unit=around.unit,
        responsible=around.responsible,
        tz=settings.tz,
        pending=around.pending,
    )
    if account.status not in (AccountStatus.PENDING, AccountStatus.REJECTED):
        activity = None
        if account.feed_url:
            activity = await account_activity(
                session,
                account=account,
                state=around.state,
                now=clock.now(),
                thresholds=settings.activity_thresholds(),
            )
        text += "\n" + activity_section(account, activity, settings.tz)
        summary, latest = await findings.open_overview(session, account_id=account.id or 0, limit=3)
        text += "\n\n" + findings_section(summary, latest)
        text += "\n\n" + cases_section(account_cases, account, settings.tz)
    kb = Keyboard()
    status = account.status
    v, aid = account.version, account.id or 0
    if (
        can_edit_account(actor, account.unit_id)
        and status in TRANSITIONS
        and TRANSITIONS[status]
        and status is not AccountStatus.PENDING
    ):
        kb.button(
            text=_("✏️ 修改信息"), callback_data=AccAction(account_id=aid, action="edit", version=v)
        )
        kb.button(
            text=_("👤 更换责任人"),
            callback_data=AccAction(account_id=aid, action="person", version=v),
        )
    if can_change_account_status(actor) and status is not AccountStatus.PENDING:
        for action, target in STATUS_ACTIONS.items():
            if target in TRANSITIONS[status]:
                kb.button(
                    text=_(ACTION_LABELS[action]),
                    callback_data=AccAction(account_id=aid, action=action, version=v),
                )
    if account.feed_url and account.status in POLLED_STATUSES:
        kb.button(text=_("🔎 立即检查"), callback_data=CheckAccount(account_id=aid))
    if actor.manages(account.unit_id) and account.status in CASE_ACCOUNT_STATUSES:
        kb.button(text=_("📋 发起整改"), callback_data=CaseNew(account_id=aid))
    for case in account_cases[:3]:
        if case.status in ACTIVE_VALUES:
            kb.button(
                text=_("整改 #{id}").format(id=case.id),
                callback_data=CaseOpen(case_id=case.id or 0),
            )
    if actor.manages(account.unit_id):
        kb.button(
            text=_("📜 变更记录"),
            callback_data=AccAction(account_id=aid, action="history", version=v),
        )
    kb.button(text=_("« 返回列表"), callback_data=AccList())
    kb.adjust(2)
    return text, kb.as_markup()


def cases_section(rows: list[Case], account: Account, tz: ZoneInfo) -> str:
    """The card's rectification cases (``account_cases``: active ones first, then the latest
    ended)."""
    if not rows:
        return _("整改：无。")
    return "\n".join([_("整改："), *("• " + case_line(c, account.name, tz) for c in rows)])
