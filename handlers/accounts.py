"""/accounts: the registry list with filters and pages, account cards, and their actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import InvalidInput, PermissionDenied
from governance.i18n import N_
from governance.registry import (
    PLATFORM_LABELS,
    STATUS_LABELS,
    AccountStatus,
    Platform,
    validate_http_url,
)
from governance.roles import Actor, can_change_account_status, can_edit_account
from governance.vocabulary import ACCOUNT_FIELD_LABELS
from handlers.accountviews import STATUS_ACTIONS, account_view, list_view
from handlers.callbacks import (
    AccAction,
    AccField,
    AccFilterMenu,
    AccList,
    AccOpen,
    AccPerson,
    DialogCancel,
)
from handlers.guards import member
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.registerform import PERSON_PAGE, FeedProbe
from handlers.render import (
    audit_label,
    esc,
    outcome_text,
    when,
)
from handlers.replies import edit_or_send, reply_to, turn_page
from models import accountchanges, accounts, audit, people
from models.accounts import Account
from models.people import User
from workflows import registry

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

EDITABLE = ("name", "platform_ref", "posts_per_week", "necessity", "operating_plan", "feed_url")
FIELD_LABELS = {field: ACCOUNT_FIELD_LABELS[field] for field in EDITABLE}
REASONED = {"account.rejected", "account.suspended", "account.closed", "account.cancelled"}


class AccountEdit(StatesGroup):
    value = State()
    reason = State()


# --- list -------------------------------------------------------------------------------------


@router.message(Command("accounts"))
async def list_accounts(message: Message, session: AsyncSession, actor: Actor | None) -> None:
    checked = member(actor)
    text, markup = await list_view(session, checked, AccList())
    await message.answer(text, reply_markup=markup)


@router.callback_query(AccList.filter())
async def page(
    query: CallbackQuery, callback_data: AccList, session: AsyncSession, actor: Actor | None
) -> None:
    checked = member(actor)
    text, markup = await list_view(session, checked, callback_data)
    await query.answer()
    await turn_page(query, text, reply_markup=markup)


@router.callback_query(AccFilterMenu.filter())
async def filter_menu(
    query: CallbackQuery, callback_data: AccFilterMenu, session: AsyncSession, actor: Actor | None
) -> None:
    member(actor)
    base = AccList(
        unit_id=callback_data.unit_id, platform=callback_data.platform, status=callback_data.status
    )
    kb = Keyboard()
    if callback_data.kind == "platform":
        for platform in Platform:
            kb.button(
                text=_(PLATFORM_LABELS[platform]),
                callback_data=base.model_copy(update={"platform": platform.value}),
            )
    else:  # units are picked from the unit tree (UnitTree, purpose ACCOUNTS)
        for status in AccountStatus:
            kb.button(
                text=_(STATUS_LABELS[status]),
                callback_data=base.model_copy(update={"status": status.value}),
            )
    kb.adjust(2)
    await query.answer()
    await edit_or_send(query, _("请选择筛选条件："), reply_markup=kb.as_markup())


# --- card -------------------------------------------------------------------------------------


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
    text, markup = await account_view(session, checked, account, settings, clock)
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
    kb = Keyboard()
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
    account = await accountchanges.update_field(
        session,
        account_id=data["account_id"],
        field=data["field"],
        value=value,
        actor=checked,
        now=clock.now(),
        version=data.get("version"),
    )
    await state.clear()
    text, markup = await account_view(session, checked, account, settings, clock)
    await message.answer(_("✅ 已保存。") + "\n\n" + text, reply_markup=markup)


@router.callback_query(AccAction.filter(F.action == "person"))
async def person_menu(
    query: CallbackQuery, callback_data: AccAction, session: AsyncSession, actor: Actor | None
) -> None:
    account = await _editable(session, actor, callback_data.account_id)
    view = AccPerson(account_id=account.id or 0, user_id=0, version=callback_data.version)
    text, markup = await _person_picker(session, account, view)
    await query.answer()
    await reply_to(query, text, reply_markup=markup)


async def _person_picker(
    session: AsyncSession, account: Account, view: AccPerson
) -> tuple[str, InlineKeyboardMarkup]:
    """The account's unit's active people, a page at a time; the current one ticked."""
    page = await people.active_staff_page(
        session, unit_id=account.unit_id, cursor=cursor_of(view), size=PERSON_PAGE
    )
    kb = Keyboard()
    for user in page.rows:
        mark = "✅ " if user.id == account.responsible_id else ""
        kb.button(
            text=mark + user.name[:30],
            callback_data=AccPerson(
                account_id=view.account_id, user_id=user.id or 0, version=view.version
            ),
        )
    kb.adjust(2)
    kb.attach(nav_row(page, AccPerson(account_id=view.account_id, user_id=0, version=view.version)))
    text = _("请选择“{name}”的新责任人：").format(name=esc(account.name))
    return text + "\n" + span_text(page), kb.as_markup()


@router.callback_query(AccPerson.filter(F.user_id == 0))
async def person_page(
    query: CallbackQuery, callback_data: AccPerson, session: AsyncSession, actor: Actor | None
) -> None:
    account = await _editable(session, actor, callback_data.account_id)
    text, markup = await _person_picker(session, account, callback_data)
    await query.answer()
    await turn_page(query, text, reply_markup=markup)


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
    text, markup = await account_view(session, checked, account, settings, clock)
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
        text, markup = await account_view(session, checked, account, settings, clock)
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
    text, markup = await account_view(session, checked, account, settings, clock)
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
