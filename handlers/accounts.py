"""/accounts: the registry list with filters and pages, account cards, and their actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import InvalidInput, PermissionDenied
from governance.i18n import N_
from governance.registry import (
    PLATFORM_LABELS,
    STATUS_LABELS,
    TRANSITIONS,
    AccountStatus,
    Platform,
    validate_http_url,
)
from governance.roles import Actor, can_change_account_status, can_edit_account
from governance.vocabulary import ACCOUNT_FIELD_LABELS
from handlers.callbacks import (
    AccAction,
    AccField,
    AccFilterMenu,
    AccList,
    AccOpen,
    AccPerson,
    CaseNew,
    CaseOpen,
    CheckAccount,
    DialogCancel,
)
from handlers.cases import case_line
from handlers.guards import member
from handlers.monitoring import activity_section
from handlers.registerform import FeedProbe
from handlers.render import (
    account_card,
    audit_label,
    esc,
    findings_section,
    outcome_text,
    platform_label,
    status_label,
    when,
)
from handlers.replies import edit_or_send, reply_to
from models import accounts, audit, cases, findings, people
from models.accounts import Account, AccountFilter
from models.activity import account_activity
from models.cases import ACTIVE_VALUES, CASE_ACCOUNT_STATUSES
from models.feeds import POLLED_STATUSES
from models.people import User
from workflows import registry

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

PAGE_SIZE = 8
EDITABLE = ("name", "platform_ref", "posts_per_week", "necessity", "operating_plan", "feed_url")
FIELD_LABELS = {field: ACCOUNT_FIELD_LABELS[field] for field in EDITABLE}
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


REASONED = {"account.rejected", "account.suspended", "account.closed", "account.cancelled"}


class AccountEdit(StatesGroup):
    value = State()
    reason = State()


# --- list -------------------------------------------------------------------------------------


async def _list_view(
    session: AsyncSession, actor: Actor, query: AccList
) -> tuple[str, InlineKeyboardMarkup]:
    filters = AccountFilter(
        unit_id=query.unit_id or None, platform=query.platform or None, status=query.status or None
    )
    rows, total = await accounts.list_accounts(
        session, actor=actor, filters=filters, page=query.page, page_size=PAGE_SIZE
    )
    units = {u.id: u.name for u in await people.list_units(session)}
    active = []
    if filters.unit_id:
        active.append(esc(units.get(filters.unit_id, "?")))
    if filters.platform:
        active.append(platform_label(filters.platform))
    if filters.status:
        active.append(status_label(filters.status))
    pages = max(1, -(-total // PAGE_SIZE))
    lines = [
        _("账号台账：共 {n} 个").format(n=total)
        + (_("（筛选：{f}）").format(f="、".join(active)) if active else "")
        + _("，第 {p}/{pages} 页").format(p=query.page + 1, pages=pages)
    ]
    kb = InlineKeyboardBuilder()
    for account in rows:
        lines.append(
            f"#{account.id} {esc(account.name)} · {platform_label(account.platform)} · "
            f"{esc(units.get(account.unit_id, '?'))} · {status_label(account.status)}"
        )
        kb.button(
            text=f"#{account.id} {account.name[:20]}",
            callback_data=AccOpen(account_id=account.id or 0),
        )
    if not rows:
        lines.append(_("没有符合条件的账号。"))
    kb.adjust(2)
    nav = InlineKeyboardBuilder()
    if query.page > 0:
        nav.button(
            text=_("◀ 上一页"), callback_data=query.model_copy(update={"page": query.page - 1})
        )
    if query.page + 1 < pages:
        nav.button(
            text=_("下一页 ▶"), callback_data=query.model_copy(update={"page": query.page + 1})
        )
    base = {"unit_id": query.unit_id, "platform": query.platform, "status": query.status}
    if actor.is_admin:
        nav.button(text=_("按单位"), callback_data=AccFilterMenu(kind="unit", **base))
    nav.button(text=_("按平台"), callback_data=AccFilterMenu(kind="platform", **base))
    nav.button(text=_("按状态"), callback_data=AccFilterMenu(kind="status", **base))
    if active:
        nav.button(text=_("清除筛选"), callback_data=AccList())
    nav.adjust(2)
    kb.attach(nav)
    return "\n".join(lines), kb.as_markup()


@router.message(Command("accounts"))
async def list_accounts(message: Message, session: AsyncSession, actor: Actor | None) -> None:
    checked = member(actor)
    text, markup = await _list_view(session, checked, AccList())
    await message.answer(text, reply_markup=markup)


@router.callback_query(AccList.filter())
async def page(
    query: CallbackQuery, callback_data: AccList, session: AsyncSession, actor: Actor | None
) -> None:
    checked = member(actor)
    text, markup = await _list_view(session, checked, callback_data)
    await query.answer()
    await edit_or_send(query, text, reply_markup=markup)


@router.callback_query(AccFilterMenu.filter())
async def filter_menu(
    query: CallbackQuery, callback_data: AccFilterMenu, session: AsyncSession, actor: Actor | None
) -> None:
    checked = member(actor)
    base = AccList(
        unit_id=callback_data.unit_id, platform=callback_data.platform, status=callback_data.status
    )
    kb = InlineKeyboardBuilder()
    if callback_data.kind == "unit" and checked.is_admin:
        for unit in await people.list_units(session):
            kb.button(
                text=unit.name,
                callback_data=base.model_copy(update={"unit_id": unit.id, "page": 0}),
            )
    elif callback_data.kind == "platform":
        for platform in Platform:
            kb.button(
                text=_(PLATFORM_LABELS[platform]),
                callback_data=base.model_copy(update={"platform": platform.value, "page": 0}),
            )
    else:
        for status in AccountStatus:
            kb.button(
                text=_(STATUS_LABELS[status]),
                callback_data=base.model_copy(update={"status": status.value, "page": 0}),
            )
    kb.adjust(2)
    await query.answer()
    await edit_or_send(query, _("请选择筛选条件："), reply_markup=kb.as_markup())


# --- card -------------------------------------------------------------------------------------


async def _card(
    session: AsyncSession, actor: Actor, account: Account, settings: Settings, clock: Clock
) -> tuple[str, InlineKeyboardMarkup]:
    unit = await session.get(people.Unit, account.unit_id)
    responsible, pending = await accounts.responsible_of(session, account)
    text = account_card(
        account, unit=unit, responsible=responsible, tz=settings.tz, pending=pending
    )
    if account.status not in (AccountStatus.PENDING, AccountStatus.REJECTED):
        activity = None
        if account.feed_url:
            activity = await account_activity(
                session,
                account=account,
                now=clock.now(),
                thresholds=settings.activity_thresholds(),
            )
        text += "\n" + activity_section(account, activity, settings.tz)
        summary = await findings.open_summary(session, account_id=account.id or 0)
        latest = await findings.open_findings(session, account_id=account.id or 0, limit=3)
        text += "\n\n" + findings_section(summary, latest)
        text += "\n\n" + await cases_section(session, account, settings.tz)
    kb = InlineKeyboardBuilder()
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
    for case in await cases.account_cases(session, account_id=aid, limit=3):
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


async def cases_section(session: AsyncSession, account: Account, tz: ZoneInfo) -> str:
    """The card's rectification cases: active ones first, then the latest ended."""
    rows = await cases.account_cases(session, account_id=account.id or 0, limit=5)
    if not rows:
        return _("整改：无。")
    return "\n".join([_("整改："), *("• " + case_line(c, account.name, tz) for c in rows)])


@router.callback_query(AccOpen.filter())
async def open_account(
    query: CallbackQuery,
    callback_data: AccOpen,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    clock: Clock,
) -> None:
    checked = member(actor)
    account = await accounts.get_visible_account(
        session, account_id=callback_data.account_id, actor=checked
    )
    text, markup = await _card(session, checked, account, settings, clock)
    await query.answer()
    await reply_to(query, text, reply_markup=markup)


async def _editable(session: AsyncSession, actor: Actor | None, account_id: int) -> Account:
    """The account, if the person may change it (checked at press time, not from the button)."""
    checked = member(actor)
    account = await accounts.get_visible_account(session, account_id=account_id, actor=checked)
    if not can_edit_account(checked, account.unit_id):
        raise PermissionDenied(N_("你无权修改该账号。"))
    return account


@router.callback_query(AccAction.filter(F.action == "edit"))
async def edit_menu(
    query: CallbackQuery, callback_data: AccAction, session: AsyncSession, actor: Actor | None
) -> None:
    account = await _editable(session, actor, callback_data.account_id)
    kb = InlineKeyboardBuilder()
    for field, label in FIELD_LABELS.items():
        kb.button(
            text=_(label),
            callback_data=AccField(
                account_id=account.id or 0, field=field, version=callback_data.version
            ),
        )
    kb.button(text=_("取消"), callback_data=DialogCancel())
    kb.adjust(2)
    await query.answer()
    await reply_to(
        query,
        _("修改“{name}”的哪一项？").format(name=esc(account.name)),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(AccField.filter())
async def ask_value(
    query: CallbackQuery,
    callback_data: AccField,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
) -> None:
    account = await _editable(session, actor, callback_data.account_id)
    if callback_data.field not in FIELD_LABELS:
        raise InvalidInput(N_("该字段不能修改。"))
    await state.set_state(AccountEdit.value)
    await state.set_data(
        {"account_id": account.id, "field": callback_data.field, "version": callback_data.version}
    )
    hint = _("发送“-”可清空。") if callback_data.field == "feed_url" else ""
    await query.answer()
    await reply_to(
        query,
        _("请发送新的“{label}”。{hint}发送 /cancel 取消。").format(
            label=_(FIELD_LABELS[callback_data.field]), hint=hint
        ),
    )


@router.message(AccountEdit.value, F.text & ~F.text.startswith("/"))
async def got_value(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
    feed_probe: FeedProbe,
) -> None:
    checked = member(actor)
    data = await state.get_data()
    value = message.text
    if data["field"] == "feed_url" and (value or "").strip() == "-":
        value = None
    elif data["field"] == "feed_url":  # the same check as registration: address rules, a feed
        url = validate_http_url(value, label=N_("订阅源地址"))
        report = await feed_probe(url)
        if not report.usable:
            await message.answer(
                _("订阅源检查未通过：{why}\n请发送新的地址，或发送 /cancel 取消。").format(
                    why=outcome_text(report.outcome, report.status)
                )
            )
            return
        value = url
    account = await accounts.update_field(
        session,
        account_id=data["account_id"],
        field=data["field"],
        value=value,
        actor=checked,
        now=clock.now(),
        version=data.get("version"),
    )
    await state.clear()
    text, markup = await _card(session, checked, account, settings, clock)
    await message.answer(_("✅ 已保存。") + "\n\n" + text, reply_markup=markup)


@router.callback_query(AccAction.filter(F.action == "person"))
async def person_menu(
    query: CallbackQuery, callback_data: AccAction, session: AsyncSession, actor: Actor | None
) -> None:
    account = await _editable(session, actor, callback_data.account_id)
    staff = await people.list_unit_users(session, unit_id=account.unit_id, include_inactive=False)
    kb = InlineKeyboardBuilder()
    for user, _roles in staff[:60]:
        mark = "✅ " if user.id == account.responsible_id else ""
        kb.button(
            text=mark + user.name[:30],
            callback_data=AccPerson(
                account_id=account.id or 0, user_id=user.id or 0, version=callback_data.version
            ),
        )
    kb.adjust(2)
    await query.answer()
    await reply_to(
        query,
        _("请选择“{name}”的新责任人：").format(name=esc(account.name)),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(AccPerson.filter())
async def change_person(
    query: CallbackQuery,
    callback_data: AccPerson,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    before = await accounts.get_visible_account(
        session, account_id=callback_data.account_id, actor=checked
    )
    account = await registry.change_responsible(
        session,
        account_id=before.id or 0,
        user_id=callback_data.user_id,
        actor=checked,
        now=clock.now(),
        version=callback_data.version,
    )
    text, markup = await _card(session, checked, account, settings, clock)
    await query.answer(_("已更换责任人"))
    await edit_or_send(query, text, reply_markup=markup)


@router.callback_query(AccAction.filter(F.action.in_(set(STATUS_ACTIONS))))
async def status_action(
    query: CallbackQuery,
    callback_data: AccAction,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    target = STATUS_ACTIONS[callback_data.action]
    if target is AccountStatus.ACTIVE:
        account = await registry.change_status(
            session,
            account_id=callback_data.account_id,
            target=target,
            actor=checked,
            who=user,
            now=clock.now(),
            version=callback_data.version,
        )
        text, markup = await _card(session, checked, account, settings, clock)
        await query.answer(_("已恢复在用"))
        await edit_or_send(query, text, reply_markup=markup)
        return
    account = await accounts.get_visible_account(
        session, account_id=callback_data.account_id, actor=checked
    )
    if not can_change_account_status(checked):
        raise InvalidInput(N_("只有管理员可以变更账号状态。"))
    await state.set_state(AccountEdit.reason)
    await state.set_data(
        {"account_id": account.id, "target": target.value, "version": callback_data.version}
    )
    prompt = {
        AccountStatus.SUSPENDED: N_("请说明暂停“{name}”的原因："),
        AccountStatus.CLOSED: N_("请说明关停“{name}”的原因（关停前应先发布停更公告）："),
        AccountStatus.CANCELLED: N_("请说明注销“{name}”的原因："),
    }[target]
    await query.answer()
    await reply_to(
        query, _(prompt).format(name=esc(account.name)) + "\n" + _("发送 /cancel 取消。")
    )


@router.message(AccountEdit.reason, F.text & ~F.text.startswith("/"))
async def got_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    data = await state.get_data()
    account = await registry.change_status(
        session,
        account_id=data["account_id"],
        target=AccountStatus(data["target"]),
        actor=checked,
        who=user,
        now=clock.now(),
        reason=message.text,
        version=data.get("version"),
    )
    await state.clear()
    text, markup = await _card(session, checked, account, settings, clock)
    await message.answer(_("✅ 状态已变更。") + "\n\n" + text, reply_markup=markup)


@router.callback_query(AccAction.filter(F.action == "history"))
async def history(
    query: CallbackQuery,
    callback_data: AccAction,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    account = await accounts.get_visible_account(
        session, account_id=callback_data.account_id, actor=checked
    )
    if not checked.manages(account.unit_id):
        raise InvalidInput(N_("你无权查看该账号的变更记录。"))
    entries = await audit.history(session, object_type="account", object_id=account.id, limit=15)
    names = {}
    for entry in entries:
        if entry.actor_id and entry.actor_id not in names:
            actor_user = await session.get(User, entry.actor_id)
            names[entry.actor_id] = actor_user.name if actor_user else "?"
    lines = [
        _("“{name}”的变更记录（最近 {n} 条）：").format(name=esc(account.name), n=len(entries))
    ]
    for entry in entries:
        who = esc(names.get(entry.actor_id, _("系统"))) if entry.actor_id else _("系统")
        line = f"{when(entry.at, settings.tz)} · {who} · {audit_label(entry.action)}"
        reason = (entry.after or {}).get("status_reason") if entry.action in REASONED else None
        if reason or entry.note:
            line += f"（{esc(reason or entry.note)}）"
        lines.append(line)
    await query.answer()
    await reply_to(query, "\n".join(lines))
