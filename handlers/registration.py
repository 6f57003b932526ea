"""/register: the registration form (开设备案) for one account, as an aiogram FSM dialog.

The form is driven by :func:`handlers.registerform.advance`: it asks for the first field still
missing, so a restart, an edit from the summary, or a field cleared because another changed all
resume at the right step. Each input is validated by the same rules the final registration
re-checks.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.clock import Clock
from governance.errors import InvalidInput, StaleAction
from governance.feedroutes import derive
from governance.i18n import N_
from governance.registry import (
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
from governance.vocabulary import AccountStatus
from handlers.callbacks import (
    RegConfirm,
    RegEdit,
    RegFeed,
    RegPerson,
    RegPlatform,
    RegUnit,
)
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of
from handlers.registerform import (
    DEPENDENTS,
    EDIT_LABELS,
    FeedProbe,
    RegisterForm,
    advance,
    cancel_row,
    form_draft,
    responsible_picker,
    send_step,
)
from handlers.render import account_card, outcome_text
from handlers.replies import edit_or_send, turn_page
from models import accounts, people
from models.people import User
from workflows import registry

if TYPE_CHECKING:
    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员和单位管理员可以登记账号。")
TEXT = F.text & ~F.text.startswith("/")
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
    if not callback_data.user_id and cursor_of(callback_data) is not None:
        data = await state.get_data()
        text, markup = await responsible_picker(session, data["unit_id"], callback_data)
        await query.answer()
        await turn_page(query, text, reply_markup=markup)
        return
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
    await _try_feed(message, url, state, session, checked, settings, feed_probe, bot)


async def _try_feed(
    message: Message,
    url: str,
    state: FSMContext,
    session: AsyncSession,
    checked: Actor,
    settings: Settings,
    feed_probe: FeedProbe,
    bot: Bot,
) -> None:
    """Probe ``url`` once; keep it when usable, else offer to retry or skip."""
    await bot.send_chat_action(message.chat.id, "typing")
    report = await feed_probe(url)
    if not report.usable:
        kb = Keyboard()
        kb.button(text=_("重新输入"), callback_data=RegFeed(action="retry"))
        kb.button(text=_("暂不填写"), callback_data=RegFeed(action="skip"))
        cancel_row(kb)
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
    feed_probe: FeedProbe,
    bot: Bot,
) -> None:
    checked = require(actor, can_register_account, NOT_ALLOWED)
    if callback_data.action == "skip":
        await state.update_data(feed_url="", feed_title="", feed_items=0)
        await advance(query, state, session, checked, settings)
    elif callback_data.action == "derived" and isinstance(query.message, Message):
        data = await state.get_data()
        derived = derive(
            data.get("platform", ""),
            data.get("platform_ref", ""),
            base=settings.rsshub_base,
            key=settings.rsshub_access_key(),
        )
        if derived is None:
            raise InvalidInput(N_("无法根据平台账号ID生成订阅源，请直接发送订阅源地址。"))
        await query.answer()
        await _try_feed(
            query.message, derived.url, state, session, checked, settings, feed_probe, bot
        )
    else:
        await send_step(query, _("请发送订阅源地址（http:// 或 https:// 开头）。"))


@router.callback_query(RegisterForm.confirm, RegConfirm.filter(F.action == "edit"))
async def edit_menu(query: CallbackQuery, actor: Actor | None) -> None:
    require(actor, can_register_account, NOT_ALLOWED)
    kb = Keyboard()
    for field, label in EDIT_LABELS.items():
        kb.button(text=_(label), callback_data=RegEdit(field=field))
    kb.adjust(2)
    await send_step(query, _("要修改哪一项？"), kb.as_markup())


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
    await edit_or_send(query, _("登记已取消，未保存任何内容。"))


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
            draft=form_draft(data),
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
        query,
        reply + "\n\n" + account_card(account, unit=unit, responsible=responsible, tz=settings.tz),
    )


@router.message(StateFilter(RegisterForm), ~F.text)
async def not_text(message: Message) -> None:
    await message.answer(_("请按提示发送文字或点击按钮；发送 /cancel 可取消登记。"))
