"""/register: the registration form (开设备案) for one account, as an aiogram FSM dialog.

The form is driven by :func:`advance`: it asks for the first field still missing, so a restart,
an edit from the summary, or a field cleared because another changed all resume at the right
step. Each input is validated by the same rules the final registration re-checks.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import InvalidInput, StaleAction
from governance.i18n import N_
from governance.registry import (
    PLATFORM_LABELS,
    Platform,
    validate_account_name,
    validate_http_url,
    validate_necessity,
    validate_plan,
    validate_platform_ref,
    validate_posts_per_week,
    validate_reason,
)
from governance.roles import Actor, can_register_account
from governance.vocabulary import ACCOUNT_FIELD_LABELS, AccountStatus
from handlers.callbacks import (
    DialogCancel,
    RegConfirm,
    RegEdit,
    RegFeed,
    RegPerson,
    RegPlatform,
    RegUnit,
)
from handlers.guards import require
from handlers.render import account_card, esc, outcome_text, platform_label
from handlers.replies import edit_or_send
from models import accounts, people
from models.accounts import AccountDraft
from models.people import User
from workflows import registry

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员和单位管理员可以登记账号。")
TEXT = F.text & ~F.text.startswith("/")


class ProbeReport(Protocol):
    """What the feed check tells the form (``feeds.fetch.ProbeResult`` fits)."""

    @property
    def usable(self) -> bool: ...

    message: str
    outcome: str
    status: int | None
    title: str | None
    item_count: int


class FeedProbe(Protocol):
    async def __call__(self, url: str) -> ProbeReport: ...


class RegisterForm(StatesGroup):
    platform = State()
    name = State()
    platform_ref = State()
    unit = State()
    duplicate_reason = State()
    responsible = State()
    posts_per_week = State()
    necessity = State()
    operating_plan = State()
    feed = State()
    confirm = State()


#: Fields in the order they are asked; editing one clears the fields that depend on it.
ORDER = (
    "platform",
    "name",
    "platform_ref",
    "unit_id",
    "duplicate_reason",
    "responsible_id",
    "posts_per_week",
    "necessity",
    "operating_plan",
    "feed_url",
)
DEPENDENTS = {
    "platform": ("platform_ref", "duplicate_reason"),
    "unit_id": ("duplicate_reason", "responsible_id"),
}
EDIT_LABELS = ACCOUNT_FIELD_LABELS


def _cancel_row(kb: InlineKeyboardBuilder) -> None:
    kb.button(text=_("取消登记"), callback_data=DialogCancel())


def _platform_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for platform in Platform:
        kb.button(
            text=_(PLATFORM_LABELS[platform]), callback_data=RegPlatform(platform=platform.value)
        )
    _cancel_row(kb)
    kb.adjust(2)
    return kb.as_markup()


async def _send(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    message = target.message if isinstance(target, CallbackQuery) else target
    if isinstance(target, CallbackQuery):
        await target.answer()
    await message.answer(text, reply_markup=markup)  # type: ignore[union-attr]


async def advance(
    target: Message | CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor,
    settings: Settings,
) -> None:
    """Ask for the first missing field, or show the summary when the form is complete."""
    data = await state.get_data()
    step = next((f for f in ORDER if f not in data), None)
    hint = "\n" + _("（发送 /cancel 可随时取消）")
    if step == "platform":
        await state.set_state(RegisterForm.platform)
        await _send(target, _("第 1 步：请选择平台。"), _platform_keyboard())
    elif step == "name":
        await state.set_state(RegisterForm.name)
        await _send(target, _("请输入账号名称（与平台上显示的名称一致，2–60 字）。") + hint)
    elif step == "platform_ref":
        await state.set_state(RegisterForm.platform_ref)
        await _send(target, _("请输入平台账号ID（如微信号、微博UID）或主页网址。") + hint)
    elif step == "unit_id":
        units = await people.list_units(session)
        units = [u for u in units if actor.manages(u.id)]
        if not units:
            await state.clear()
            await _send(target, _("还没有可选的单位，请管理员先用 /units 新增单位。登记已取消。"))
            return
        await state.set_state(RegisterForm.unit)
        kb = InlineKeyboardBuilder()
        for unit in units[:60]:
            kb.button(text=unit.name, callback_data=RegUnit(unit_id=unit.id or 0))
        _cancel_row(kb)
        kb.adjust(1)
        await _send(target, _("请选择账号的所属单位（主办单位）。"), kb.as_markup())
    elif step == "duplicate_reason":
        siblings = await accounts.unit_accounts_on_platform(
            session, unit_id=data["unit_id"], platform=Platform(data["platform"])
        )
        if not siblings:
            await state.update_data(duplicate_reason="")
            await advance(target, state, session, actor, settings)
            return
        await state.set_state(RegisterForm.duplicate_reason)
        names = "、".join(f"“{esc(a.name)}”" for a in siblings)
        await _send(
            target,
            _(
                "该单位在{platform}已有账号：{names}。\n原则上一个单位在一个平台只开设一个账号，"
                "请说明再开设的理由。"
            ).format(platform=platform_label(data["platform"]), names=names)
            + hint,
        )
    elif step == "responsible_id":
        await state.set_state(RegisterForm.responsible)
        staff = [
            u
            for u, _roles in await people.list_unit_users(
                session, unit_id=data["unit_id"], include_inactive=False
            )
        ]
        kb = InlineKeyboardBuilder()
        for user in staff[:60]:
            kb.button(text=user.name[:30], callback_data=RegPerson(user_id=user.id or 0))
        kb.button(text=_("🔄 刷新名单"), callback_data=RegPerson(user_id=0))
        _cancel_row(kb)
        kb.adjust(2)
        if staff:
            text = _("请选择该账号的责任人（须为本单位已登记人员）。")
        else:
            text = _(
                "该单位还没有已登记的人员。请先发送 /invite 邀请责任人加入，"
                "对方加入后点击“刷新名单”继续；表单已保存。"
            )
        await _send(target, text, kb.as_markup())
    elif step == "posts_per_week":
        await state.set_state(RegisterForm.posts_per_week)
        await _send(target, _("承诺每周至少发布多少条？请输入整数（至少 1）。") + hint)
    elif step == "necessity":
        await state.set_state(RegisterForm.necessity)
        await _send(
            target, _("请说明开设必要性（开设理由，至少 10 字）。无开通必要的不开。") + hint
        )
    elif step == "operating_plan":
        await state.set_state(RegisterForm.operating_plan)
        await _send(
            target,
            _("请填写运营计划（栏目、内容来源、更新安排、审核流程等，至少 10 字）。") + hint,
        )
    elif step == "feed_url":
        await state.set_state(RegisterForm.feed)
        kb = InlineKeyboardBuilder()
        kb.button(text=_("暂不填写"), callback_data=RegFeed(action="skip"))
        _cancel_row(kb)
        kb.adjust(1)
        await _send(
            target,
            _(
                "请输入该账号的订阅源地址（RSS/Atom/JSON Feed，可用 RSSHub 生成），"
                "用于日常监测更新情况；也可以暂不填写。"
            ),
            kb.as_markup(),
        )
    else:
        await _summary(target, state, session, settings)


async def _summary(
    target: Message | CallbackQuery, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    data = await state.get_data()
    await state.set_state(RegisterForm.confirm)
    draft = _draft(data)
    unit = await session.get(people.Unit, draft.unit_id)
    responsible = await session.get(User, draft.responsible_id)
    preview = accounts.Account(
        platform=draft.platform,
        name=draft.name,
        platform_ref=draft.platform_ref,
        platform_ref_norm="",
        unit_id=draft.unit_id,
        responsible_id=draft.responsible_id,
        posts_per_week=draft.posts_per_week,
        necessity=draft.necessity,
        operating_plan=draft.operating_plan,
        feed_url=draft.feed_url,
        duplicate_reason=draft.duplicate_reason,
        status=AccountStatus.PENDING,
        created_by=0,
        created_at=None,
        updated_at=None,  # type: ignore[arg-type]
    )
    card = account_card(preview, unit=unit, responsible=responsible, tz=settings.tz, draft=True)
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ 确认提交"), callback_data=RegConfirm(action="confirm"))
    kb.button(text=_("✏️ 修改"), callback_data=RegConfirm(action="edit"))
    kb.button(text=_("取消登记"), callback_data=RegConfirm(action="cancel"))
    kb.adjust(2, 1)
    feed_note = ""
    if data.get("feed_title"):
        feed_note = "\n" + _("订阅源检查通过：“{title}”，{n} 条内容。").format(
            title=esc(data["feed_title"]), n=data.get("feed_items", 0)
        )
    await _send(target, _("请核对登记信息：") + "\n\n" + card + feed_note, kb.as_markup())


def _draft(data: dict[str, Any]) -> AccountDraft:
    return AccountDraft(
        platform=data["platform"],
        name=data["name"],
        platform_ref=data["platform_ref"],
        unit_id=data["unit_id"],
        responsible_id=data["responsible_id"],
        posts_per_week=data["posts_per_week"],
        necessity=data["necessity"],
        operating_plan=data["operating_plan"],
        feed_url=data.get("feed_url") or None,
        duplicate_reason=data.get("duplicate_reason") or None,
    )


# --- entry ------------------------------------------------------------------------------------


@router.message(Command("register"))
async def register(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    await state.clear()
    start: dict[str, Any] = {"submission": secrets.token_hex(8)}
    if not checked.is_admin:
        start["unit_id"] = checked.unit_id
    await state.set_data(start)
    await message.answer(_("开始登记新的政务新媒体账号（开设备案）。"))
    await advance(message, state, session, checked, settings)


# --- steps ------------------------------------------------------------------------------------


@router.callback_query(RegisterForm.platform, RegPlatform.filter())
async def got_platform(
    query: CallbackQuery,
    callback_data: RegPlatform,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    try:
        platform = Platform(callback_data.platform)
    except ValueError:
        raise InvalidInput(N_("请选择一个平台。")) from None
    await state.update_data(platform=platform.value)
    await advance(query, state, session, checked, settings)


def _duplicate_reason(text: str | None) -> str:
    return validate_reason(text, label=N_("再开设同平台账号的理由"))


#: The steps that take one line of text: the field it fills and the rule that checks it.
TEXT_STEPS: dict[str | None, tuple[str, Callable[[str | None], object]]] = {
    RegisterForm.name.state: ("name", validate_account_name),
    RegisterForm.duplicate_reason.state: ("duplicate_reason", _duplicate_reason),
    RegisterForm.posts_per_week.state: ("posts_per_week", validate_posts_per_week),
    RegisterForm.necessity.state: ("necessity", validate_necessity),
    RegisterForm.operating_plan.state: ("operating_plan", validate_plan),
}


async def _store(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    **values: Any,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    await state.update_data(**values)
    await advance(message, state, session, checked, settings)


@router.message(StateFilter(*(s for s in TEXT_STEPS if s)), TEXT)
async def got_text(
    message: Message,
    state: FSMContext,
    raw_state: str | None,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    field, validate = TEXT_STEPS[raw_state]
    await _store(message, state, session, actor, settings, **{field: validate(message.text)})


@router.message(RegisterForm.platform_ref, TEXT)
async def got_ref(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    ref = validate_platform_ref(message.text)
    data = await state.get_data()
    await accounts.ensure_platform_ref_free(
        session, platform=Platform(data["platform"]), platform_ref=ref
    )
    await _store(message, state, session, actor, settings, platform_ref=ref)


@router.callback_query(RegisterForm.unit, RegUnit.filter())
async def got_unit(
    query: CallbackQuery,
    callback_data: RegUnit,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    accounts.ensure_unit_scope(checked, callback_data.unit_id)
    await people.get_unit(session, callback_data.unit_id)
    await state.update_data(unit_id=callback_data.unit_id)
    await advance(query, state, session, checked, settings)


@router.callback_query(RegisterForm.responsible, RegPerson.filter())
async def got_responsible(
    query: CallbackQuery,
    callback_data: RegPerson,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    if callback_data.user_id:
        data = await state.get_data()
        await accounts.ensure_responsible(
            session, user_id=callback_data.user_id, unit_id=data["unit_id"]
        )
        await state.update_data(responsible_id=callback_data.user_id)
    await advance(query, state, session, checked, settings)


@router.message(RegisterForm.feed, TEXT)
async def got_feed(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    feed_probe: FeedProbe,
    bot: Bot,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    url = validate_http_url(message.text, label=N_("订阅源地址"))
    await bot.send_chat_action(message.chat.id, "typing")
    report = await feed_probe(url)
    if not report.usable:
        kb = InlineKeyboardBuilder()
        kb.button(text=_("重新输入"), callback_data=RegFeed(action="retry"))
        kb.button(text=_("暂不填写"), callback_data=RegFeed(action="skip"))
        _cancel_row(kb)
        kb.adjust(2, 1)
        await message.answer(
            _("订阅源检查未通过：{why}\n可以直接发送新的地址重试，或暂不填写。").format(
                why=outcome_text(report.outcome, report.status)
            ),
            reply_markup=kb.as_markup(),
        )
        return
    await state.update_data(
        feed_url=url, feed_title=report.title or "", feed_items=report.item_count
    )
    await advance(message, state, session, checked, settings)


@router.callback_query(RegisterForm.feed, RegFeed.filter())
async def feed_choice(
    query: CallbackQuery,
    callback_data: RegFeed,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    if callback_data.action == "skip":
        await state.update_data(feed_url="", feed_title="", feed_items=0)
        await advance(query, state, session, checked, settings)
    else:
        await _send(query, _("请发送订阅源地址（http:// 或 https:// 开头）。"))


@router.callback_query(RegisterForm.confirm, RegConfirm.filter(F.action == "edit"))
async def edit_menu(query: CallbackQuery, actor: Actor | None) -> None:
    require(actor, can_register_account, NOT_ALLOWED)
    kb = InlineKeyboardBuilder()
    for field, label in EDIT_LABELS.items():
        kb.button(text=_(label), callback_data=RegEdit(field=field))
    kb.adjust(2)
    await _send(query, _("要修改哪一项？"), kb.as_markup())


@router.callback_query(RegisterForm.confirm, RegEdit.filter())
async def edit_field(
    query: CallbackQuery,
    callback_data: RegEdit,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    if callback_data.field not in EDIT_LABELS:
        raise InvalidInput(N_("该字段不能修改。"))
    if callback_data.field == "unit_id" and not checked.is_admin:
        raise InvalidInput(N_("单位管理员只能为本单位登记账号，所属单位不能修改。"))
    data = await state.get_data()
    for key in (callback_data.field, *DEPENDENTS.get(callback_data.field, ())):
        data.pop(key, None)
    await state.set_data(data)
    await advance(query, state, session, checked, settings)


@router.callback_query(RegisterForm.confirm, RegConfirm.filter(F.action == "cancel"))
async def cancel_form(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("已取消"))
    await edit_or_send(query, _("登记已取消，未保存任何内容。"))  # type: ignore[union-attr]


@router.callback_query(RegisterForm.confirm, RegConfirm.filter(F.action == "confirm"))
async def confirm(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    user: User,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    data = await state.get_data()
    now = clock.now()
    try:
        account = await registry.register(
            session,
            actor=checked,
            applicant=user,
            draft=_draft(data),
            now=now,
            submission_key=data.get("submission"),
        )
    except IntegrityError:
        raise StaleAction(N_("该登记已提交，请勿重复点击。")) from None
    unit = await session.get(people.Unit, account.unit_id)
    responsible = await session.get(User, account.responsible_id)
    if account.status is AccountStatus.PENDING:
        reply = _("✅ 已提交登记申请（编号 {id}），等待管理员审核，结果会通知你。").format(
            id=account.id
        )
    else:
        reply = _("✅ 账号已登记（编号 {id}），状态：在用。").format(id=account.id)
    await state.clear()
    await query.answer(_("已提交"))
    await edit_or_send(
        query,  # type: ignore[union-attr]
        reply + "\n\n" + account_card(account, unit=unit, responsible=responsible, tz=settings.tz),
    )


@router.message(StateFilter(RegisterForm), ~F.text)
async def not_text(message: Message) -> None:
    await message.answer(_("请按提示发送文字或点击按钮；发送 /cancel 可取消登记。"))
