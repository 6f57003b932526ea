"""Shared pieces of what people read: labels, times, cards. Everything user-typed is escaped."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from aiogram.types import Update
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration as hd

from governance import vocabulary
from governance.activity import DormancyState
from governance.errors import UserFacingError
from governance.i18n import N_
from governance.outcomes import OUTCOME_MESSAGES_ZH, PollOutcome
from governance.quality.pii import mask_pii
from governance.roles import ROLE_LABELS, Role, sort_roles
from governance.vocabulary import ACTIVITY_LABELS, Severity, severity_rank
from models.accounts import Account
from models.people import Unit, User


class Finding(Protocol):
    """What rendering needs of a finding (governance.quality.Finding or a stored one)."""

    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def suggestion(self) -> str | None: ...


def short(text: str, limit: int = 300) -> str:
    """Long free text cut for a card (Telegram messages stop at 4096 characters)."""
    return text if len(text) <= limit else text[:limit] + "…"


def display_url(url: str, limit: int = 120) -> str:
    """A URL without its query string, which may carry access keys (RSSHub ``?key=``)."""
    head, _sep, query = url.partition("?")
    return short(head, limit) + ("?…" if query else "")


def esc(value: object) -> str:
    return hd.quote(str(value))


def attr(value: object) -> str:
    """A value for inside a double-quoted HTML attribute: quotes escaped too."""
    return html.escape(str(value), quote=True)


def safe_link(link: str | None) -> str | None:
    """``link`` when it is an absolute http(s) URL fit for an ``href``; otherwise None."""
    if not link:
        return None
    link = link.strip()
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return link


def when(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def platform_label(value: str) -> str:
    return esc(vocabulary.platform_label(value, _))


def status_label(value: str) -> str:
    return esc(vocabulary.status_label(value, _))


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
    pending: str | None = None,
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
        _("责任人：{person}").format(
            person=person(responsible)
            if responsible is not None or not pending
            else _("{name}（待通过邀请加入）").format(name=esc(pending))
        ),
        _("承诺更新：每周 {n} 条").format(n=account.posts_per_week),
        _("开设理由：{text}").format(text=esc(short(account.necessity))),
        _("运营计划：{text}").format(text=esc(short(account.operating_plan))),
        _("订阅源：{url}").format(
            url=esc(display_url(account.feed_url)) if account.feed_url else _("未填写")
        ),
    ]
    if account.duplicate_reason:
        lines.append(
            _("同平台多账号理由：{text}").format(text=esc(short(account.duplicate_reason, 200)))
        )
    if not draft:
        lines.append(_("登记时间：{at}").format(at=when(account.created_at, tz)))
    return "\n".join(lines)


AUDIT_LABELS: dict[str, str] = {
    "account.registered": N_("登记（立即生效）"),
    "account.applied": N_("提交登记申请"),
    "account.approved": N_("审核通过"),
    "account.rejected": N_("驳回登记"),
    "account.name_changed": N_("修改账号名称"),
    "account.platform_ref_changed": N_("修改平台账号ID或主页"),
    "account.posts_per_week_changed": N_("修改承诺更新频率"),
    "account.necessity_changed": N_("修改开设理由"),
    "account.operating_plan_changed": N_("修改运营计划"),
    "account.feed_url_changed": N_("修改订阅源"),
    "account.responsible_changed": N_("更换责任人"),
    "account.responsible_joined": N_("责任人通过邀请加入"),
    "account.imported": N_("台账导入"),
    "account.active": N_("恢复在用"),
    "account.rectifying": N_("进入整改"),
    "account.suspended": N_("暂停"),
    "account.closed": N_("关停"),
    "account.cancelled": N_("注销"),
    "case.opened": N_("发起整改"),
    "case.problems_added": N_("新增整改问题"),
    "case.explained": N_("提交整改说明"),
    "case.overdue": N_("整改逾期"),
    "case.interviewed": N_("记录约谈"),
    "case.extended": N_("延期整改"),
    "case.resolved": N_("整改办结"),
    "case.closed": N_("关停（整改终结）"),
    "repost_task.created": N_("发布转载任务"),
    "repost_task.reminded": N_("提醒未转载账号"),
    "repost_task.closed": N_("结束任务"),
    "repost_task.cancelled": N_("撤销任务"),
    "repost_target.matched": N_("识别到转载"),
    "repost_target.undone": N_("撤销匹配"),
    "repost_target.confirmed": N_("人工确认转载"),
}


def audit_label(action: str) -> str:
    """A readable name for an audit action; unknown ones are shown as recorded."""
    label = AUDIT_LABELS.get(action)
    return _(label) if label else esc(action)


def locale_for(language_code: str | None) -> str:
    """Map a Telegram ``language_code`` to one of our catalogs: English or Chinese."""
    if language_code and language_code.lower().startswith("en"):
        return "en"
    return "zh_CN"


def locale_of_update(update: Update) -> str:
    """The reader's locale, for code that runs outside the i18n middleware (errors)."""
    user = getattr(update.event, "from_user", None)
    return locale_for(user.language_code if user is not None else None)


def category_label(category: str) -> str:
    return esc(vocabulary.category_label(category, _))


def severity_label(severity: str) -> str:
    return esc(vocabulary.severity_label(severity, _))


def findings_text(
    text: str, findings: Sequence[Finding], *, limit: int = 10, context: int = 12
) -> str:
    """Each finding with its span highlighted in a short excerpt; severest first."""
    lines = []
    for f in sorted(findings, key=lambda f: (severity_rank(f.severity), f.start))[:limit]:
        before = text[max(0, f.start - context) : f.start]
        after = text[f.end : f.end + context]
        excerpt = (
            ("…" if f.start > context else "")
            + esc(before)
            + f"<b><u>{esc(text[f.start : f.end])}</u></b>"
            + esc(after)
            + ("…" if f.end + context < len(text) else "")
        )
        head = f"[{severity_label(f.severity)}] {category_label(f.category)}"
        hint = _("，建议：{s}").format(s=esc(f.suggestion)) if f.suggestion else ""
        lines.append(f"• {head}：{excerpt}{hint}")
    if len(findings) > limit:
        lines.append(_("……另有 {n} 处").format(n=len(findings) - limit))
    return "\n".join(lines)


def outcome_text(outcome: str | None, status: int | None = None) -> str:
    """A poll outcome in the reader's language, with the HTTP status filled in."""
    if not outcome:
        return _("尚未抓取")
    try:
        template = _(OUTCOME_MESSAGES_ZH[PollOutcome(outcome)])
    except ValueError:
        return esc(outcome)
    return template.format(status=status if status is not None else "?")


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


def shown(text: str) -> str:
    """Text that came from a post or a draft, as a person may see it: PII masked, escaped."""
    return esc(mask_pii(text))


def post_line(title: str, link: str | None, published: str) -> str:
    """One post as ``date · title`` with the title linked when the link is http(s)."""
    line = esc(mask_pii(title)[:80] or _("（无标题）"))
    href = safe_link(link)
    if href is not None:
        line = f'<a href="{attr(href)}">{line}</a>'
    return f"{published} · {line}"


class StoredProblem(Protocol):
    """What the card shows of a stored finding."""

    @property
    def post_id(self) -> int | None: ...
    @property
    def category(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def suggestion(self) -> str | None: ...
    @property
    def excerpt(self) -> str: ...


def findings_section(
    summary: Sequence[tuple[str, str, int]], latest: Sequence[StoredProblem]
) -> str:
    """The card's open problems: counts by severity and category, then the latest few."""
    if not summary:
        return _("内容问题：未发现。")
    parts = []
    for severity in Severity:
        cats = [(c, n) for c, s, n in summary if s == severity]
        if cats:
            detail = "、".join(f"{category_label(c)} {n}" for c, n in cats)
            parts.append(
                _("{severity} {n} 项（{detail}）").format(
                    severity=severity_label(severity), n=sum(n for _c, n in cats), detail=detail
                )
            )
    lines = [_("内容问题：") + "；".join(parts)]
    by_post: dict[object, list[StoredProblem]] = {}
    for problem in latest:  # one entry per post, listing each of its problems
        by_post.setdefault(problem.post_id or id(problem), []).append(problem)
    for problems in by_post.values():
        excerpt = mask_pii(problems[0].excerpt)
        marked = esc(excerpt)
        for problem in problems:
            hit = esc(mask_pii(problem.text))
            if hit:
                marked = marked.replace(hit, f"<b><u>{hit}</u></b>", 1)
        labels = "、".join(dict.fromkeys(category_label(p.category) for p in problems))
        lines.append(f"• {labels}：…{marked}…")
    return "\n".join(lines)
