"""/dormant, /monitor and /check: monitoring in chat, plus the account card's activity section."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.activity import DormancyState
from governance.clock import Clock
from governance.errors import InvalidInput, NotFound
from governance.i18n import N_
from governance.registry import STATUS_LABELS, AccountStatus
from governance.roles import Actor
from handlers.callbacks import (
    AccOpen,
    CheckAccount,
    DormantList,
    OutboxRetry,
    UnitPurpose,
    UnitTree,
)
from handlers.guards import member, require
from handlers.keyboards import Keyboard
from handlers.paging import cursor_of, nav_row, span_text
from handlers.render import activity_label, esc, outcome_text, post_line, when
from handlers.replies import edit_or_send, reply_to, turn_page
from models import accounts, audit, outbox, people
from models.accounts import Account
from models.activity import AccountActivity, dormancy_page, find_accounts
from models.feeds import POLLED_STATUSES, polling_health

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from bot.settings import Settings

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

FeedCheck = Callable[[int], Awaitable[Any]]
PAGE_SIZE = 15


# --- the card's activity section ----------------------------------------------------------------


def activity_section(account: Account, activity: AccountActivity | None, tz: ZoneInfo) -> str:
    """What the account card says about updates, polling and the latest posts."""
    lines = ["", _("<b>📈 更新监测</b>")]
    if not account.feed_url or activity is None:
        lines.append(_("未配置订阅源，无法监测更新。"))
        return "\n".join(lines)
    report, state = activity.report, activity.state
    lines.append(_("状态：{state}").format(state=activity_label(report.state.value)))
    if report.last_post is not None:
        lines.append(
            _("最近发布：{at}（{days} 天前）").format(
                at=when(report.last_post, tz), days=report.days_since_last_post
            )
        )
    else:
        lines.append(
            _("尚未发现发布内容（登记以来 {days} 天）").format(days=report.days_since_last_post)
        )
    gap = f"{report.longest_gap_days:.1f}" if report.longest_gap_days is not None else "—"
    lines.append(
        _("近 7/30/90 天发布：{a}/{b}/{c} 条；最长间隔 {gap} 天").format(
            a=report.posts_7d, b=report.posts_30d, c=report.posts_90d, gap=gap
        )
    )
    if report.plan_judged:
        plan = _("承诺每周 {plan} 条，近 {days} 天平均每周 {actual:.1f} 条").format(
            plan=account.posts_per_week,
            days=f"{report.plan_window_days:g}",
            actual=report.posts_per_week,
        )
        lines.append(plan + (_("（低于承诺）") if report.below_plan else ""))
    else:
        too_short = _("承诺每周 {plan} 条；发布记录仅覆盖 {days} 天，不足一周，暂不判断")
        lines.append(
            too_short.format(plan=account.posts_per_week, days=f"{report.plan_window_days:g}")
        )
    if state is not None and state.last_poll_at is not None:
        lines.append(
            _("最近抓取：{at} · {outcome}").format(
                at=when(state.last_poll_at, tz),
                outcome=outcome_text(state.last_outcome, state.last_status),
            )
        )
        if state.consecutive_failures:
            lines.append(_("连续失败 {n} 次").format(n=state.consecutive_failures))
        lines.append(_("下次抓取：{at}").format(at=when(state.next_poll_at, tz)))
    else:
        lines.append(_("最近抓取：尚未抓取"))
    if activity.latest:
        lines.append(_("最新发布："))
        lines += [
            "• " + post_line(p.title, p.link, when(p.published_at, tz)) for p in activity.latest
        ]
    return "\n".join(lines)


# --- /dormant -----------------------------------------------------------------------------------


async def _dormant_view(
    session: AsyncSession, actor: Actor, query: DormantList, clock: Clock, settings: Settings
) -> tuple[str, InlineKeyboardMarkup]:
    unit_id = query.unit_id or None
    page = await dormancy_page(
        session,
        actor=actor,
        unit_id=unit_id,
        at_least=query.state,
        now=clock.now(),
        thresholds=settings.activity_thresholds(),
        cursor=cursor_of(query),
        size=PAGE_SIZE,
    )
    units = await people.unit_names(
        session, unit_ids={r.unit_id for r in page.rows} | {unit_id or 0}
    )
    head = _("不更新账号排行（按距最近发布的天数，最久在前）：共 {n} 个").format(n=page.total)
    if unit_id:
        head += _("（单位：{unit}）").format(unit=esc(units.get(unit_id, "?")))
    if query.state is not None:
        head += _("（至少：{state}）").format(state=activity_label(query.state.value))
    lines = [head + "，" + span_text(page, total=False)]
    kb = Keyboard()
    for row in page.rows:
        last = when(row.last_post, settings.tz)[:10] if row.last_post else _("无")
        days = _("{n} 天").format(n=row.days) if row.polled else _("尚未抓取")
        lines.append(
            f"{activity_label(row.state.value)} · #{row.account_id} {esc(row.name)} · "
            f"{esc(units.get(row.unit_id, '?'))} · {days} · " + _("最近 {date}").format(date=last)
        )
        if row.state not in (DormancyState.ACTIVE,):
            kb.button(
                text=f"#{row.account_id} {row.name[:20]}",
                callback_data=AccOpen(account_id=row.account_id),
            )
    if not page.rows:
        lines.append(_("没有正在监测的账号（账号需在用且已填写订阅源）。"))
    kb.adjust(2)
    kb.attach(nav_row(page, query))
    nav = Keyboard()
    for state in (DormancyState.WARNING, DormancyState.DORMANT, DormancyState.CLOSURE_CANDIDATE):
        if state is not query.state:
            nav.button(
                text=activity_label(state.value),
                callback_data=DormantList(unit_id=query.unit_id, state=state),
            )
    if query.state is not None:
        nav.button(text=_("全部监测账号"), callback_data=DormantList(unit_id=query.unit_id))
    if actor.is_admin:
        nav.button(text=_("按单位"), callback_data=UnitTree(purpose=UnitPurpose.DORMANT))
        if unit_id:
            nav.button(text=_("全部单位"), callback_data=DormantList(state=query.state))
    nav.adjust(3)
    kb.attach(nav)
    return "\n".join(lines), kb.as_markup()


@router.message(Command("dormant"))
async def dormant(
    message: Message, session: AsyncSession, actor: Actor | None, clock: Clock, settings: Settings
) -> None:
    checked = member(actor)
    text, markup = await _dormant_view(session, checked, DormantList(), clock, settings)
    await message.answer(text, reply_markup=markup, disable_web_page_preview=True)


@router.callback_query(DormantList.filter())
async def dormant_page(
    query: CallbackQuery,
    callback_data: DormantList,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
    settings: Settings,
) -> None:
    checked = member(actor)
    if callback_data.unit_id and not checked.is_admin and callback_data.unit_id != checked.unit_id:
        raise InvalidInput(N_("你只能查看本单位的账号。"))
    text, markup = await _dormant_view(session, checked, callback_data, clock, settings)
    await query.answer()
    await turn_page(query, text, reply_markup=markup, disable_web_page_preview=True)


# --- /monitor -----------------------------------------------------------------------------------


FAILED_SHOWN = 5


async def _monitor_view(
    session: AsyncSession, clock: Clock
) -> tuple[str, InlineKeyboardMarkup | None]:
    health = await polling_health(session, now=clock.now())
    backlog = await outbox.backlog(session)
    lines = [
        _("<b>🛰 监测运行状况</b>"),
        _("监测中的账号：{n}").format(n=health.monitored),
        _("待抓取（已到期）：{n}；抓取中：{busy}").format(n=health.due, busy=health.claimed),
        _("近 1 小时抓取：{n} 次").format(n=health.polled_last_hour),
        _("当前连续失败的订阅源：{n}；从未成功：{never}").format(
            n=health.failing_feeds, never=health.never_succeeded
        ),
        _("待发送通知（outbox 积压）：{n}").format(n=backlog),
    ]
    if health.failures_by_outcome:
        lines.append(_("近 24 小时失败（按原因）："))
        for outcome, count in health.failures_by_outcome.items():
            lines.append(f"• {outcome_text(outcome, None)} — {count}")
    else:
        lines.append(_("近 24 小时没有抓取失败。"))
    failed_total, failed = await outbox.failed_messages(session, limit=FAILED_SHOWN)
    if not failed_total:
        return "\n".join(lines), None
    lines.append(_("发送失败的通知（Telegram 拒收）：{n} 条").format(n=failed_total))
    kb = Keyboard()
    for row in failed:
        lines.append(
            f"• #{row.id} → {row.chat_id} · {esc(row.kind)} · {esc((row.error or '')[:120])}"
        )
        kb.button(
            text=_("重发 #{id}").format(id=row.id),
            callback_data=OutboxRetry(message_id=row.id or 0),
        )
    kb.button(text=_("全部重发"), callback_data=OutboxRetry())
    kb.adjust(2)
    return "\n".join(lines), kb.as_markup()


@router.message(Command("monitor"))
async def monitor(
    message: Message, session: AsyncSession, actor: Actor | None, clock: Clock
) -> None:
    require(actor, lambda a: a.is_admin, N_("只有管理员可以查看监测运行状况。"))
    text, markup = await _monitor_view(session, clock)
    await message.answer(text, reply_markup=markup)


@router.callback_query(OutboxRetry.filter())
async def retry_failed_notices(
    query: CallbackQuery,
    callback_data: OutboxRetry,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    """An admin queues failed notices again (one, or all of them)."""
    checked = require(actor, lambda a: a.is_admin, N_("只有管理员可以重发通知。"))
    target = callback_data.message_id or None
    count = await outbox.requeue_failed(session, now=clock.now(), message_id=target)
    if count:
        await audit.record(
            session,
            at=clock.now(),
            actor_id=checked.user_id,
            action="outbox.requeue",
            object_type="outbox",
            object_id=target or "failed",
            after={"requeued": count},
        )
    text, markup = await _monitor_view(session, clock)
    await query.answer(_("已重新排队 {n} 条通知。").format(n=count))
    await edit_or_send(query, text, reply_markup=markup)


# --- /check -------------------------------------------------------------------------------------


@router.message(Command("check"))
async def check(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    feed_check: FeedCheck,
) -> None:
    checked = member(actor)
    if not command.args or not command.args.strip():
        raise InvalidInput(N_("用法：/check 账号编号或名称，例如 /check 12"))
    matches = await find_accounts(session, actor=checked, query=command.args)
    if not matches:
        raise NotFound(N_("没有找到“{query}”对应的账号。"), query=command.args.strip()[:60])
    if len(matches) > 1:
        kb = Keyboard()
        for account in matches:
            kb.button(
                text=f"#{account.id} {account.name[:24]}",
                callback_data=CheckAccount(account_id=account.id or 0),
            )
        kb.adjust(1)
        await message.answer(_("找到多个账号，请选择要检查的一个："), reply_markup=kb.as_markup())
        return
    text = await _run_check(session, checked, matches[0].id or 0, feed_check, settings)
    await message.answer(text, disable_web_page_preview=True)


@router.callback_query(CheckAccount.filter())
async def check_button(
    query: CallbackQuery,
    callback_data: CheckAccount,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
    feed_check: FeedCheck,
) -> None:
    checked = member(actor)
    text = await _run_check(session, checked, callback_data.account_id, feed_check, settings)
    await query.answer()
    await reply_to(query, text, disable_web_page_preview=True)


async def _run_check(
    session: AsyncSession, actor: Actor, account_id: int, feed_check: FeedCheck, settings: Settings
) -> str:
    account = await accounts.get_visible_account(session, account_id=account_id, actor=actor)
    if not account.feed_url:
        raise InvalidInput(N_("账号“{name}”未填写订阅源，无法检查。"), name=account.name)
    if account.status not in POLLED_STATUSES:
        raise InvalidInput(
            N_("账号“{name}”当前状态为“{status}”，不在监测范围内。"),
            name=account.name,
            status=_status_msgid(account.status),
        )
    await session.commit()  # the check writes in its own transaction; hold no locks meanwhile
    report = await feed_check(account_id)
    name = esc(account.name)
    if report.status == "cooldown":
        seconds = max(1, int(report.retry_in.total_seconds()))
        return _("账号“{name}”刚检查过，请 {n} 秒后再试。").format(name=name, n=seconds)
    if report.status == "busy":
        return _("账号“{name}”正在抓取中，请稍后再试。").format(name=name)
    if report.status == "no_feed":
        return _("账号“{name}”不在监测范围内。").format(name=name)
    lines = [
        _("🔎 “{name}”检查结果：{outcome}").format(
            name=name, outcome=outcome_text(report.outcome, report.http_status)
        ),
        _("订阅源条目 {seen} 条，新发现 {new} 条").format(
            seen=report.items_seen, new=report.items_new
        ),
    ]
    if report.error:
        lines.append(_("详情：{error}").format(error=esc(report.error)))
    lines.append(_("下次自动抓取：{at}").format(at=when(report.next_poll_at, settings.tz)))
    return "\n".join(lines)


def _status_msgid(status: str) -> str:
    try:
        return STATUS_LABELS[AccountStatus(status)]
    except ValueError:
        return status
