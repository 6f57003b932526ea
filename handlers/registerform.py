"""The registration form's steps (开设备案): its states, the order fields are asked in, and
:func:`advance`, which asks for the next one; split from :mod:`handlers.registration`, whose
handlers take the answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.feedroutes import derive
from governance.registry import PLATFORM_LABELS, Platform
from governance.roles import Actor
from governance.vocabulary import ACCOUNT_FIELD_LABELS, AccountStatus
from handlers.callbacks import (
    DialogCancel,
    RegConfirm,
    RegFeed,
    RegPerson,
    RegPlatform,
    RegUnit,
    UnitPurpose,
    UnitTree,
)
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import account_card, display_url, esc, platform_label
from handlers.replies import pressed_message
from handlers.units import tree_view
from models import accounts, people
from models.accounts import AccountDraft
from models.people import User

if TYPE_CHECKING:
    from bot.settings import Settings


#: the timestamps of a preview account (never stored): the draft card shows no dates
_UNSAVED = datetime.min.replace(tzinfo=UTC)


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
PERSON_PAGE = 20  # people per page of a responsible-person picker


def cancel_row(kb: Keyboard) -> None:
    kb.button(text=_("取消登记"), callback_data=DialogCancel())


def _platform_keyboard() -> InlineKeyboardMarkup:
    kb = Keyboard()
    for platform in Platform:
        kb.button(
            text=_(PLATFORM_LABELS[platform]), callback_data=RegPlatform(platform=platform.value)
        )
    cancel_row(kb)
    kb.adjust(2)
    return kb.as_markup()


async def send_step(
    target: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    message = pressed_message(target) if isinstance(target, CallbackQuery) else target
    if isinstance(target, CallbackQuery):
        await target.answer()
    await message.answer(text, reply_markup=markup)


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
        await send_step(target, _("第 1 步：请选择平台。"), _platform_keyboard())
    elif step == "name":
        await state.set_state(RegisterForm.name)
        await send_step(target, _("请输入账号名称（与平台上显示的名称一致，2–60 字）。") + hint)
    elif step == "platform_ref":
        await state.set_state(RegisterForm.platform_ref)
        await send_step(target, _("请输入平台账号ID（如微信号、微博UID）或主页网址。") + hint)
    elif step == "unit_id":
        await _unit_step(target, state, session, actor)
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
        await send_step(
            target,
            _(
                "该单位在{platform}已有账号：{names}。\n原则上一个单位在一个平台只开设一个账号，"
                "请说明再开设的理由。"
            ).format(platform=platform_label(data["platform"]), names=names)
            + hint,
        )
    elif step == "responsible_id":
        await state.set_state(RegisterForm.responsible)
        text, markup = await responsible_picker(session, data["unit_id"], RegPerson(user_id=0))
        await send_step(target, text, markup)
    elif step == "posts_per_week":
        await state.set_state(RegisterForm.posts_per_week)
        await send_step(target, _("承诺每周至少发布多少条？请输入整数（至少 1）。") + hint)
    elif step == "necessity":
        await state.set_state(RegisterForm.necessity)
        await send_step(
            target, _("请说明开设必要性（开设理由，至少 10 字）。无开通必要的不开。") + hint
        )
    elif step == "operating_plan":
        await state.set_state(RegisterForm.operating_plan)
        await send_step(
            target,
            _("请填写运营计划（栏目、内容来源、更新安排、审核流程等，至少 10 字）。") + hint,
        )
    elif step == "feed_url":
        await state.set_state(RegisterForm.feed)
        kb = Keyboard()
        derived = derive(
            data.get("platform", ""),
            data.get("platform_ref", ""),
            base=settings.rsshub_base,
            key=settings.rsshub_access_key(),
        )
        if derived is not None:
            kb.button(text=_("✅ 使用此地址"), callback_data=RegFeed(action="derived"))
        kb.button(text=_("暂不填写"), callback_data=RegFeed(action="skip"))
        cancel_row(kb)
        kb.adjust(1)
        text = _(
            "请输入该账号的订阅源地址（RSS/Atom/JSON Feed，可用 RSSHub 生成），"
            "用于日常监测更新情况；也可以暂不填写。"
        )
        if derived is not None:
            text = _(
                "已根据平台账号ID生成订阅源（{note}）：\n{url}\n"
                "点击“使用此地址”检查并采用；也可以直接发送其他订阅源地址。"
            ).format(note=esc(derived.route.note), url=esc(display_url(derived.url)))
        await send_step(target, text, kb.as_markup())
    else:
        await _summary(target, state, session, settings)


async def _unit_step(
    target: Message | CallbackQuery, state: FSMContext, session: AsyncSession, actor: Actor
) -> None:
    """Admins pick among all units in the unit tree (paged); a unit manager, their own unit."""
    prompt = _("请选择账号的所属单位（主办单位）。")
    if actor.is_admin:
        if (await people.units_page(session, cursor=None, size=1)).total:
            await state.set_state(RegisterForm.unit)
            text, markup = await tree_view(session, UnitTree(purpose=UnitPurpose.REGISTER))
            await send_step(target, prompt + "\n\n" + text, markup)
            return
    elif actor.unit_id is not None and actor.manages(actor.unit_id):
        unit = await people.get_unit(session, actor.unit_id)
        await state.set_state(RegisterForm.unit)
        kb = Keyboard()
        kb.button(text=unit.name, callback_data=RegUnit(unit_id=unit.id or 0))
        cancel_row(kb)
        kb.adjust(1)
        await send_step(target, prompt, kb.as_markup())
        return
    await state.clear()
    await send_step(target, _("还没有可选的单位，请管理员先用 /units 新增单位。登记已取消。"))


async def responsible_picker(
    session: AsyncSession, unit_id: int, view: RegPerson
) -> tuple[str, InlineKeyboardMarkup]:
    """The unit's active people, a page at a time, to pick the account's responsible person."""
    page = await people.active_staff_page(
        session, unit_id=unit_id, cursor=cursor_of(view), size=PERSON_PAGE
    )
    kb = Keyboard()
    for user in page.rows:
        kb.button(text=user.name[:30], callback_data=RegPerson(user_id=user.id or 0))
    kb.adjust(2)
    kb.attach(nav_row(page, RegPerson(user_id=0)))
    more = Keyboard()
    more.button(text=_("🔄 刷新名单"), callback_data=RegPerson(user_id=0))
    cancel_row(more)
    more.adjust(2)
    kb.attach(more)
    if page.total:
        text = _("请选择该账号的责任人（须为本单位已登记人员）。") + "\n" + span_text(page)
    else:
        text = _(
            "该单位还没有已登记的人员。请先发送 /invite 邀请责任人加入，"
            "对方加入后点击“刷新名单”继续；表单已保存。"
        )
    return text, kb.as_markup()


async def _summary(
    target: Message | CallbackQuery, state: FSMContext, session: AsyncSession, settings: Settings
) -> None:
    data = await state.get_data()
    await state.set_state(RegisterForm.confirm)
    draft = form_draft(data)
    unit = await session.get(people.Unit, draft.unit_id)
    responsible = await session.get(User, draft.responsible_id)
    preview = accounts.Account(
        platform=Platform(draft.platform),
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
        created_at=_UNSAVED,
        updated_at=_UNSAVED,
    )
    card = account_card(preview, unit=unit, responsible=responsible, tz=settings.tz, draft=True)
    kb = Keyboard()
    kb.button(text=_("✅ 确认提交"), callback_data=RegConfirm(action="confirm"))
    kb.button(text=_("✏️ 修改"), callback_data=RegConfirm(action="edit"))
    kb.button(text=_("取消登记"), callback_data=RegConfirm(action="cancel"))
    kb.adjust(2, 1)
    feed_note = ""
    if data.get("feed_title"):
        feed_note = "\n" + _("订阅源检查通过：“{title}”，{n} 条内容。").format(
            title=esc(data["feed_title"]), n=data.get("feed_items", 0)
        )
    await send_step(target, _("请核对登记信息：") + "\n\n" + card + feed_note, kb.as_markup())


def form_draft(data: dict[str, Any]) -> AccountDraft:
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
