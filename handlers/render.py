"""Shared pieces of what people read: labels, times, cards. Everything user-typed is escaped."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.types import Update
from aiogram.utils.i18n import gettext as _
from aiogram.utils.markdown import html_decoration as hd

from governance.activity import DormancyState
from governance.errors import UserFacingError
from governance.i18n import N_
from governance.outcomes import OUTCOME_MESSAGES_ZH, PollOutcome
from governance.registry import PLATFORM_LABELS, STATUS_LABELS, AccountStatus, Platform
from governance.roles import ROLE_LABELS, Role, sort_roles
from models.accounts import Account
from models.people import Unit, User


def esc(value: object) -> str:
    return hd.quote(str(value))


def when(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def platform_label(value: str) -> str:
    try:
        return _(PLATFORM_LABELS[Platform(value)])
    except ValueError:
        return esc(value)


def status_label(value: str) -> str:
    try:
        return _(STATUS_LABELS[AccountStatus(value)])
    except ValueError:
        return esc(value)


def role_label(role: Role | str) -> str:
    return _(ROLE_LABELS[Role(role)])


def roles_text(roles: frozenset[Role]) -> str:
    return "、".join(role_label(r) for r in sort_roles(roles)) or _("无角色")


def person(user: User | None) -> str:
    if user is None:
        return "—"
    handle = f" (@{esc(user.username)})" if user.username else ""
    return f"{esc(user.name)}{handle}"


def error_text(exc: UserFacingError) -> str:
    """Translate a refusal and its parameters; parameters may be message ids or user text."""
    params = {
        key: esc(_(value)) if isinstance(value, str) else esc(value)
        for key, value in exc.params.items()
    }
    try:
        return _(exc.message).format(**params)
    except (KeyError, IndexError, ValueError):
        return _(exc.message)


def account_card(
    account: Account,
    *,
    unit: Unit | None,
    responsible: User | None,
    tz: ZoneInfo,
    draft: bool = False,
) -> str:
    """The account's fields; ``draft`` leaves out what a not-yet-filed form does not have."""
    if draft:
        lines = [f"<b>{esc(account.name)}</b>（{platform_label(account.platform)}）"]
    else:
        lines = [
            f"<b>{esc(account.name)}</b>（{platform_label(account.platform)}，"
            + _("编号 {id}").format(id=account.id)
            + "）",
            _("状态：{status}").format(status=status_label(account.status)),
        ]
    if account.status_reason:
        lines.append(_("状态说明：{reason}").format(reason=esc(account.status_reason)))
    lines += [
        _("平台账号/主页：{ref}").format(ref=esc(account.platform_ref)),
        _("所属单位：{unit}").format(unit=esc(unit.name) if unit else "—"),
        _("责任人：{person}").format(person=person(responsible)),
        _("承诺更新：每周 {n} 条").format(n=account.posts_per_week),
        _("开设理由：{text}").format(text=esc(account.necessity)),
        _("运营计划：{text}").format(text=esc(account.operating_plan)),
        _("订阅源：{url}").format(url=esc(account.feed_url) if account.feed_url else _("未填写")),
    ]
    if account.duplicate_reason:
        lines.append(_("同平台多账号理由：{text}").format(text=esc(account.duplicate_reason)))
    if not draft:
        lines.append(_("登记时间：{at}").format(at=when(account.created_at, tz)))
    return "\n".join(lines)


def locale_for(language_code: str | None) -> str:
    """Map a Telegram ``language_code`` to one of our catalogs: English or Chinese."""
    if language_code and language_code.lower().startswith("en"):
        return "en"
    return "zh_CN"


def locale_of_update(update: Update) -> str:
    """The reader's locale, for code that runs outside the i18n middleware (errors)."""
    user = getattr(update.event, "from_user", None)
    return locale_for(user.language_code if user is not None else None)


def outcome_text(outcome: str | None, status: int | None = None) -> str:
    """A poll outcome in the reader's language, with the HTTP status filled in."""
    if not outcome:
        return _("尚未抓取")
    try:
        template = _(OUTCOME_MESSAGES_ZH[PollOutcome(outcome)])
    except ValueError:
        return esc(outcome)
    return template.format(status=status if status is not None else "?")


ACTIVITY_LABELS: dict[DormancyState, str] = {
    DormancyState.ACTIVE: N_("正常更新"),
    DormancyState.WARNING: N_("更新预警"),
    DormancyState.DORMANT: N_("不更新（僵尸号）"),
    DormancyState.CLOSURE_CANDIDATE: N_("建议关停"),
    DormancyState.UNKNOWN: N_("未知（监测源异常）"),
}
ACTIVITY_ICONS: dict[DormancyState, str] = {
    DormancyState.ACTIVE: "🟢",
    DormancyState.WARNING: "🟡",
    DormancyState.DORMANT: "🔴",
    DormancyState.CLOSURE_CANDIDATE: "⛔",
    DormancyState.UNKNOWN: "⚪",
}


def activity_label(state: str) -> str:
    try:
        value = DormancyState(state)
    except ValueError:
        return esc(state)
    return f"{ACTIVITY_ICONS[value]} {_(ACTIVITY_LABELS[value])}"


def post_line(title: str, link: str | None, published: str) -> str:
    """One post as ``date · title`` with the title linked when the link is http(s)."""
    shown = esc(title[:80] or _("（无标题）"))
    if link and link.startswith(("http://", "https://")):
        shown = f'<a href="{esc(link)}">{shown}</a>'
    return f"{published} · {shown}"
