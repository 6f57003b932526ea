"""/words: admins maintain the checker's word lists in chat; changes apply at once."""

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
from governance.errors import InvalidInput, UserFacingError
from governance.i18n import N_
from governance.roles import Actor
from governance.sweep import SweepState
from handlers.callbacks import (
    DialogCancel,
    WordsAdd,
    WordsCategory,
    WordsList,
    WordsRemove,
    WordsTry,
)
from handlers.guards import require
from handlers.keyboards import Keyboard
from handlers.render import category_label, error_text, esc, findings_text, when
from handlers.replies import edit_or_send, reply_to
from models import sweeps, wordlists
from models.sweeps import HistorySweep
from models.wordlists import WORD_CATEGORIES, RuleKind
from workflows.checker import LiveChecker

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

NOT_ALLOWED = N_("只有管理员可以维护错敏词库。")
PAGE = 10
MAX_LINES = 50
KIND_LABELS = {
    RuleKind.WORD: N_("错敏词"),
    RuleKind.ALLOW: N_("白名单（不报的说法）"),
    RuleKind.DISABLE: N_("停用的内置词"),
    RuleKind.REMOVED_OFFICIAL: N_("落马官员"),
    RuleKind.ALLOWED_DOMAIN: N_("允许的链接域名"),
}
PROMPTS = {
    RuleKind.WORD: N_("请发送要检测的词，每行一个；错别字可写成“错词=正确写法”。"),
    RuleKind.ALLOW: N_("请发送不应报错的说法（白名单），每行一个，如：平安建设。"),
    RuleKind.DISABLE: N_("请发送要停用的内置词，每行一个。"),
    RuleKind.REMOVED_OFFICIAL: N_(
        "请发送落马官员姓名，每行一个；其姓名与职务同时出现时报“严重表述错误”。"
    ),
    RuleKind.ALLOWED_DOMAIN: N_("请发送允许链接的域名，每行一个，如 example.gov.cn。"),
}


class WordsForm(StatesGroup):
    entries = State()
    sample = State()


def _is_admin(actor: Actor) -> bool:
    return actor.is_admin


def _sweep_line(sweep: HistorySweep | None, version: str, tz: ZoneInfo) -> str | None:
    """Where the history sweep stands: stored posts follow a change within minutes."""
    if sweep is None:
        return None
    if sweep.target_digest != version:
        return _("历史信息复查：词库已修改，一分钟内开始复查已存储的信息。")
    if sweep.state is SweepState.RUNNING:
        return _("历史信息复查：进行中 {done}/{total}").format(
            done=f"{sweep.done:,}", total=f"{sweep.total:,}" if sweep.total is not None else "…"
        )
    if sweep.total is None:  # the first record: nothing was ever swept
        return None
    return _(
        "历史信息复查：完成于 {at}（复查 {rechecked} 篇，新发现 {found} 处，撤销 {withdrawn} 处）"
    ).format(
        at=when(sweep.finished_at, tz),
        rechecked=f"{sweep.rechecked:,}",
        found=f"{sweep.found:,}",
        withdrawn=f"{sweep.withdrawn:,}",
    )


async def _overview(
    session: AsyncSession, live_checker: LiveChecker, tz: ZoneInfo
) -> tuple[str, InlineKeyboardMarkup]:
    counts = await wordlists.counts(session)
    lines = [_("错敏词库（在内置词库之外由管理员维护，修改即时生效）：")]
    lines += [f"· {_(label)}：{counts.get(kind.value, 0)}" for kind, label in KIND_LABELS.items()]
    sweep_line = _sweep_line(await sweeps.current(session), live_checker.version, tz)
    if sweep_line:
        lines.append(sweep_line)
    kb = Keyboard()
    for kind, label in KIND_LABELS.items():
        kb.button(text="➕ " + _(label), callback_data=WordsAdd(kind=kind.value))
    kb.button(text=_("📋 查看/删除"), callback_data=WordsList())
    kb.button(text=_("🔍 试查一段文字"), callback_data=WordsTry())
    kb.adjust(2)
    return "\n".join(lines), kb.as_markup()


@router.message(Command("words"))
async def words(
    message: Message,
    session: AsyncSession,
    actor: Actor | None,
    live_checker: LiveChecker,
    settings: Settings,
) -> None:
    require(actor, _is_admin, NOT_ALLOWED)
    text, markup = await _overview(session, live_checker, settings.tz)
    await message.answer(text, reply_markup=markup)


@router.callback_query(WordsAdd.filter())
async def add(
    query: CallbackQuery, callback_data: WordsAdd, state: FSMContext, actor: Actor | None
) -> None:
    require(actor, _is_admin, NOT_ALLOWED)
    try:
        kind = RuleKind(callback_data.kind)
    except ValueError:
        raise InvalidInput(N_("请选择词条的类别。")) from None
    await state.set_state(WordsForm.entries)
    await state.set_data({"kind": kind.value})
    await query.answer()
    if kind is RuleKind.WORD:
        kb = Keyboard()
        for category in WORD_CATEGORIES:
            kb.button(text=category_label(category), callback_data=WordsCategory(category=category))
        kb.button(text=_("取消"), callback_data=DialogCancel())
        kb.adjust(3)
        await reply_to(query, _("新增的词属于哪一类？"), reply_markup=kb.as_markup())
        return
    await reply_to(query, _(PROMPTS[kind]) + "\n" + _("发送 /cancel 取消。"))


@router.callback_query(WordsForm.entries, WordsCategory.filter())
async def category(
    query: CallbackQuery, callback_data: WordsCategory, state: FSMContext, actor: Actor | None
) -> None:
    require(actor, _is_admin, NOT_ALLOWED)
    if callback_data.category not in WORD_CATEGORIES:
        raise InvalidInput(N_("请选择词条的类别。"))
    await state.update_data(category=callback_data.category)
    await query.answer()
    await reply_to(query, _(PROMPTS[RuleKind.WORD]) + "\n" + _("发送 /cancel 取消。"))


@router.message(WordsForm.entries, F.text & ~F.text.startswith("/"))
async def entries(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    live_checker: LiveChecker,
) -> None:
    checked = require(actor, _is_admin, NOT_ALLOWED)
    data = await state.get_data()
    kind = RuleKind(data["kind"])
    if kind is RuleKind.WORD and not data.get("category"):
        raise InvalidInput(N_("请先选择词条的类别。"))
    lines = [line.strip() for line in (message.text or "").splitlines() if line.strip()]
    if len(lines) > MAX_LINES:
        raise InvalidInput(N_("一次最多添加 {max} 条，请分批发送。"), max=MAX_LINES)
    added, skipped = [], []
    for line in lines:
        word, _sep, suggestion = line.partition("=") if kind is RuleKind.WORD else (line, "", "")
        try:
            rule = await wordlists.add_rule(
                session,
                actor=checked,
                kind=kind,
                word=word,
                category=data.get("category"),
                suggestion=suggestion or None,
                now=clock.now(),
            )
        except UserFacingError as exc:
            skipped.append(f"{esc(line)}：{error_text(exc)}")
            continue
        added.append(esc(rule.word))
    await state.clear()
    await live_checker.refresh(session, force=True)
    reply = [_("已添加 {n} 条，已即时生效。").format(n=len(added))]
    if added:
        reply.append("、".join(added))
    if skipped:
        reply.append(_("未添加："))
        reply += skipped
    await message.answer("\n".join(reply))


@router.callback_query(WordsList.filter())
async def list_words(
    query: CallbackQuery, callback_data: WordsList, session: AsyncSession, actor: Actor | None
) -> None:
    require(actor, _is_admin, NOT_ALLOWED)
    text, markup = await _page(session, callback_data.page)
    await query.answer()
    await reply_to(query, text, reply_markup=markup)


async def _page(session: AsyncSession, page: int) -> tuple[str, InlineKeyboardMarkup]:
    rows, total = await wordlists.list_rules(session, offset=page * PAGE, limit=PAGE)
    lines = [_("词库条目（共 {n} 条）：").format(n=total)]
    kb = Keyboard()
    for rule in rows:
        kind = rule.kind
        detail = category_label(rule.category) if rule.category else _(KIND_LABELS[kind])
        hint = f" → {esc(rule.suggestion)}" if rule.suggestion else ""
        lines.append(f"#{rule.id} {esc(rule.word)}{hint}（{detail}）")
        kb.button(
            text=_("删除 #{id}").format(id=rule.id),
            callback_data=WordsRemove(rule_id=rule.id or 0, page=page),
        )
    if not rows:
        lines.append(_("暂无条目。"))
    kb.adjust(3)
    nav = Keyboard()
    if page > 0:
        nav.button(text=_("◀ 上一页"), callback_data=WordsList(page=page - 1))
    if (page + 1) * PAGE < total:
        nav.button(text=_("下一页 ▶"), callback_data=WordsList(page=page + 1))
    kb.attach(nav)
    return "\n".join(lines), kb.as_markup()


@router.callback_query(WordsRemove.filter())
async def remove(
    query: CallbackQuery,
    callback_data: WordsRemove,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    live_checker: LiveChecker,
) -> None:
    checked = require(actor, _is_admin, NOT_ALLOWED)
    rule = await wordlists.remove_rule(
        session, actor=checked, rule_id=callback_data.rule_id, now=clock.now()
    )
    await live_checker.refresh(session, force=True)
    text, markup = await _page(session, callback_data.page)
    await query.answer(_("已删除“{word}”，已即时生效。").format(word=rule.word))
    await edit_or_send(query, text, reply_markup=markup)


@router.callback_query(WordsTry.filter())
async def try_text(query: CallbackQuery, state: FSMContext, actor: Actor | None) -> None:
    require(actor, _is_admin, NOT_ALLOWED)
    await state.set_state(WordsForm.sample)
    await query.answer()
    await reply_to(query, _("请发送要检查的文字（最多 4000 字）。发送 /cancel 取消。"))


@router.message(WordsForm.sample, F.text & ~F.text.startswith("/"))
async def sample(
    message: Message, state: FSMContext, actor: Actor | None, live_checker: LiveChecker
) -> None:
    require(actor, _is_admin, NOT_ALLOWED)
    text = message.text or ""
    findings = live_checker.holder.current.check_text(text)
    await state.clear()
    if not findings:
        await message.answer(_("未发现问题。"))
        return
    await message.answer(
        _("发现 {n} 处问题：").format(n=len(findings)) + "\n" + findings_text(text, findings)
    )
