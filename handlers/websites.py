"""/websites: government websites (政府网站) — the list, a website's card, and adding websites,
columns and column selectors.

    /websites                                         the list (buttons open each card)
    /websites add 单位编号|网站名称|首页地址|责任人编号     file a website (admins, unit managers)
    /websites column 网站编号|栏目名称|列表页地址|类别[|二级]  watch a column
    /websites selector 栏目编号|CSS选择器（“-”清除）        when list detection fails

Thin: each form calls one workflow (:mod:`workflows.websites`), which checks the rights again.
"""

from __future__ import annotations

from datetime import timedelta

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.settings import Settings
from governance.clock import Clock
from governance.errors import InvalidInput, NotFound, PermissionDenied
from governance.i18n import N_
from governance.roles import Actor, can_view_account
from governance.vocabulary import status_label
from governance.websites import COLUMN_CLASS_LABELS, INDICATORS, WebsiteRule
from handlers.callbacks import WebOpen
from handlers.guards import member
from handlers.keyboards import Keyboard
from handlers.render import esc, shown
from handlers.replies import reply_to
from models import websites
from models.accounts import Account
from models.links import PostLink
from models.people import Unit
from models.posts import Post
from workflows.websites import (
    WebsiteDraft,
    add_column,
    column_class,
    register_website,
    set_selector,
)

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")

USAGE = N_(
    "用法：\n/websites — 网站列表\n"
    "/websites add 单位编号|网站名称|首页地址|责任人编号\n"
    "/websites column 网站编号|栏目名称|列表页地址|类别[|二级]\n"
    "（类别：动态要闻、通知公告、政策文件、人事规划、互动交流、其他）\n"
    "/websites selector 栏目编号|CSS选择器（发送 - 清除）"
)
OUTCOMES = {"pass": N_("合格"), "fail": N_("不合格"), "unassessable": N_("无法评估")}
MAX_LISTED = 40


def _parts(args: str, n: int, most: int | None = None) -> list[str]:
    parts = [p.strip() for p in args.split("|")]
    if not n <= len(parts) <= (most or n) or not all(parts[:n]):
        raise InvalidInput(USAGE)
    return parts


def _int(text: str) -> int:
    if not text.isdigit():
        raise InvalidInput(N_("编号应为数字。"))
    return int(text)


@router.message(Command("websites"))
async def websites_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    actor: Actor | None,
    clock: Clock,
) -> None:
    checked = member(actor)
    args = (command.args or "").strip()
    verb, _space, rest = args.partition(" ")
    now = clock.now()
    if not args:
        text, markup = await _overview(session, checked)
        await message.answer(text, reply_markup=markup)
        return
    if verb == "add":
        unit, name, url, person = _parts(rest, 4)
        account, _site = await register_website(
            session,
            actor=checked,
            draft=WebsiteDraft(
                name=name, home_url=url, unit_id=_int(unit), responsible_id=_int(person)
            ),
            now=now,
        )
        await session.commit()
        await message.answer(
            _("已登记网站 #{id}：{name}。首页将按计划访问，请继续添加栏目。").format(
                id=account.id, name=esc(account.name)
            )
        )
        return
    if verb == "column":
        parts = _parts(rest, 4, 5)
        second = len(parts) == 5 and parts[4] in ("二级", "second", "否")
        column = await add_column(
            session,
            actor=checked,
            account_id=_int(parts[0]),
            name=parts[1],
            url=parts[2],
            kind=column_class(parts[3]),
            first_level=not second,
            now=now,
        )
        await session.commit()
        await message.answer(
            _("已添加栏目 #{id}：{name}（{kind}），下一轮监测即读取。").format(
                id=column.id, name=esc(column.name), kind=_(COLUMN_CLASS_LABELS[column.kind])
            )
        )
        return
    if verb == "selector":
        column_id, selector = _parts(rest, 2)
        column = await set_selector(
            session, actor=checked, column_id=_int(column_id), selector=selector, now=now
        )
        await session.commit()
        await message.answer(
            _("栏目 #{id} 的选择器已更新为：{selector}").format(
                id=column.id, selector=esc(column.selector or _("（自动识别）"))
            )
        )
        return
    if verb == "help":
        await message.answer(_(USAGE))
        return
    raise InvalidInput(USAGE)


async def _overview(session: AsyncSession, actor: Actor) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        (site, account)
        for site, account in await websites.list_websites(session)
        if can_view_account(actor, account.unit_id)
    ]
    lines = [_("<b>政府网站</b>（{n} 个）").format(n=len(rows))]
    kb = Keyboard()
    if not rows:
        lines.append(_("还没有登记网站。管理员可用 /websites add 登记。"))
    for site, account in rows[:MAX_LISTED]:
        verdict = _(OUTCOMES[site.outcome]) if site.outcome in OUTCOMES else _("未评估")
        lines.append(
            _("#{id} {name}（{status}）：{verdict}").format(
                id=account.id,
                name=esc(account.name),
                status=status_label(account.status, _),
                verdict=verdict,
            )
        )
        kb.button(
            text=f"#{account.id} {account.name}"[:40],
            callback_data=WebOpen(account_id=account.id or 0),
        )
    kb.adjust(1)
    lines.append(_("发送 /websites help 查看登记和维护栏目的写法。"))
    return "\n".join(lines), kb.as_markup()


@router.callback_query(WebOpen.filter())
async def open_card(
    query: CallbackQuery,
    callback_data: WebOpen,
    session: AsyncSession,
    actor: Actor | None,
    settings: Settings,
) -> None:
    checked = member(actor)
    account = await session.get(Account, callback_data.account_id)
    site = await websites.get_website(session, callback_data.account_id)
    if account is None or site is None:
        raise NotFound(N_("找不到编号为 {id} 的网站。"), id=callback_data.account_id)
    if not can_view_account(checked, account.unit_id):
        raise PermissionDenied(N_("只能查看本单位的网站。"))
    await query.answer()
    await reply_to(query, await card_text(session, account, site, settings))


async def card_text(
    session: AsyncSession, account: Account, site: websites.Website, settings: Settings
) -> str:
    tz = settings.tz
    unit = await session.get(Unit, account.unit_id)
    lines = [
        f"<b>{esc(account.name)}</b>（#{account.id}，{status_label(account.status, _)}）",
        _("单位：{unit}").format(unit=esc(unit.name if unit else "")),
        _("首页：{url}").format(url=esc(site.home_url)),
    ]
    if site.last_probe_at is not None:
        state = (
            _("正常")
            if site.last_probe_ok
            else _("打不开（{why}）").format(why=esc(site.last_probe_error or ""))
        )
        lines.append(
            _("最近访问：{at}，{state}").format(
                at=site.last_probe_at.astimezone(tz).strftime("%m-%d %H:%M"), state=state
            )
        )
    visits = failures = 0
    if site.last_probe_at is not None:  # the week up to the last visit, as counted per day
        last_day = site.last_probe_at.astimezone(tz).date()
        week = await websites.probe_days(
            session, account_id=site.account_id, first=last_day - timedelta(days=6), last=last_day
        )
        visits, failures = sum(d.visits for d in week), sum(d.failures for d in week)
    if visits:
        lines.append(
            _("近 7 天访问 {visits} 次，打不开 {failures} 次（{ratio}）").format(
                visits=visits, failures=failures, ratio=f"{failures / visits:.1%}"
            )
        )
    if site.outcome is not None:
        vetoes = "、".join(_(INDICATORS[WebsiteRule(v)]) for v in site.vetoes) or _("无")
        lines.append(
            _("评估：{verdict}，{points} 分；单项否决：{vetoes}").format(
                verdict=_(OUTCOMES.get(site.outcome, site.outcome)),
                points=site.points,
                vetoes=vetoes,
            )
        )
    lines.append(_("<b>监测页面</b>"))
    for page in await websites.columns_of(session, account_id=site.account_id):
        last = page.last_update.astimezone(tz).strftime("%Y-%m-%d") if page.last_update else "—"
        if not page.readable:
            how = _("未能识别列表") if page.first_success_at else _("尚未读取")
        else:
            how = _("{n} 条，最近 {last}").format(n=page.items, last=last)
        extra = _("（导航型首页）") if page.portal else ""
        lines.append(
            f"#{page.id} {esc(page.name)}［{_(COLUMN_CLASS_LABELS[page.kind])}］{how}{extra}"
        )
    outside = await offsite_domains(session, account_id=site.account_id, home_url=site.home_url)
    if outside:
        lines.append(
            _("首页外部链接域名（供隐藏链接、涉赌域名核查）：{domains}").format(
                domains=shown("、".join(outside[:10]))
            )
        )
    return "\n".join(lines)


async def offsite_domains(session: AsyncSession, *, account_id: int, home_url: str) -> list[str]:
    """Domains the newest home page snapshot links to outside the website's own host."""
    from yarl import URL

    snapshot = (
        await session.exec(
            select(Post.id)
            .where(Post.account_id == account_id, col(Post.identity).startswith("h"))
            .order_by(col(Post.id).desc())
            .limit(1)
        )
    ).first()
    if snapshot is None:
        return []
    own = (URL(home_url).host or "").lower()
    urls = await session.exec(select(PostLink.url).where(PostLink.post_id == snapshot))
    domains: dict[str, None] = {}
    for url in urls:
        host = (URL(url).host or "").lower()
        if host and host != own:
            domains[host] = None
    return list(domains)
