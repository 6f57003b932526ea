"""What registry and monitoring notices say, rendered by the outbox sender when sent.

Each renderer is a pure function of its typed notice, evaluated in the recipient's language,
so what was decided at enqueue time is what the person reads. Text that came from a post is
shown through ``shown()`` (escaped, personal data masked).
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from governance.i18n import N_
from handlers.callbacks import AccOpen, RegDecision
from handlers.case_notices import CASE_RENDERERS
from handlers.delivery import Action, Copy, Edit, Rendered, Renderers, Send
from handlers.keyboards import Keyboard
from handlers.render import (
    category_label,
    esc,
    outcome_text,
    platform_label,
    post_line,
    role_label,
    shown,
    status_label,
)
from handlers.repost_notices import REPOST_RENDERERS
from handlers.review_notices import REVIEW_RENDERERS
from handlers.robot_notices import ROBOT_RENDERERS
from handlers.website_notices import WEBSITE_RENDERERS
from workflows.notices import (
    AboutAccount,
    AccountStatusChanged,
    AccountSummary,
    ActiveChanged,
    ActivityFacts,
    DormancyAlert,
    FeedBrokenAlert,
    FeedRecoveredAlert,
    InvitationAccepted,
    RecoveredAlert,
    RegistrationDecided,
    RegistrationPending,
    ResponsibleAssigned,
    RolesChanged,
    VetoFinding,
)


def _summary(n: AccountSummary) -> str:
    lines = [
        f"<b>{esc(n.name)}</b>（{platform_label(n.platform)}）",
        _("平台账号/主页：{ref}").format(ref=esc(n.platform_ref)),
        _("所属单位：{unit}").format(unit=esc(n.unit)),
        _("责任人：{person}").format(person=esc(n.responsible)),
        _("承诺更新：每周 {n} 条").format(n=n.posts_per_week),
        _("开设理由：{text}").format(text=esc(n.necessity)),
        _("运营计划：{text}").format(text=esc(n.operating_plan)),
        _("订阅源：{url}").format(url=esc(n.feed_url) if n.feed_url else _("未填写")),
    ]
    if n.duplicate_reason:
        lines.append(_("同平台多账号理由：{text}").format(text=esc(n.duplicate_reason)))
    return "\n".join(lines)


def _open_button(account_id: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=_("查看账号"), callback_data=AccOpen(account_id=account_id))
    return kb.as_markup()


def registration_pending(n: RegistrationPending) -> Rendered:
    text = (
        _("📝 新的账号登记申请，申请人：{who}").format(who=esc(n.applicant))
        + "\n\n"
        + _summary(n)
        + "\n\n"
        + _("请审核：通过后账号进入“在用”状态。")
    )
    kb = Keyboard()
    kb.button(
        text=_("✅ 通过"),
        callback_data=RegDecision(account_id=n.account_id, approve=True, version=n.version),
    )
    kb.button(
        text=_("❌ 驳回"),
        callback_data=RegDecision(account_id=n.account_id, approve=False, version=n.version),
    )
    kb.adjust(2)
    return text, kb.as_markup()


def registration_decided(n: RegistrationDecided) -> Rendered:
    if n.approved:
        text = _("✅ 你提交的账号登记“{name}”已由 {who} 审核通过，账号已进入“在用”状态。").format(
            name=esc(n.name), who=esc(n.decider)
        )
    else:
        text = _("❌ 你提交的账号登记“{name}”被 {who} 驳回。\n理由：{reason}").format(
            name=esc(n.name), who=esc(n.decider), reason=esc(n.reason)
        )
    return text, _open_button(n.account_id)


def invitation_accepted(n: InvitationAccepted) -> Rendered:
    return (
        _("👋 {who} 已通过你的邀请加入{unit}，角色：{role}。").format(
            who=esc(n.who),
            unit=f"“{esc(n.unit)}”" if n.unit else "",
            role=role_label(n.role),
        ),
        None,
    )


def responsible_assigned(n: ResponsibleAssigned) -> Rendered:
    return (
        _(
            "📌 你已被指定为账号“{name}”（{platform}）的责任人，该账号的预警和整改通知将发送给你。"
        ).format(name=esc(n.name), platform=platform_label(n.platform)),
        _open_button(n.account_id),
    )


def account_status_changed(n: AccountStatusChanged) -> Rendered:
    text = _("ℹ️ 账号“{name}”的状态已由 {who} 变更为“{status}”。").format(
        name=esc(n.name), who=esc(n.who), status=status_label(n.status)
    )
    if n.reason:
        text += "\n" + _("原因：{reason}").format(reason=esc(n.reason))
    return text, None


def roles_changed(n: RolesChanged) -> Rendered:
    roles = "、".join(role_label(r) for r in n.roles) or _("无角色")
    return _("ℹ️ 你的角色已由 {who} 调整为：{roles}。发送 /help 查看可用命令。").format(
        who=esc(n.who), roles=roles
    ), None


def active_changed(n: ActiveChanged) -> Rendered:
    if n.active:
        return _("ℹ️ 你的账号已由 {who} 恢复使用。").format(who=esc(n.who)), None
    return _("ℹ️ 你的账号已由 {who} 停用，如有疑问请联系管理员。").format(who=esc(n.who)), None


def _who(n: AboutAccount) -> str:
    if n.unit:
        return _("{unit}的“{name}”（{platform}）").format(
            unit=esc(n.unit), name=esc(n.name), platform=platform_label(n.platform)
        )
    return _("“{name}”（{platform}）").format(name=esc(n.name), platform=platform_label(n.platform))


def _last_post(n: ActivityFacts) -> str:
    if not n.last_title and not n.last_date:
        return _("最近一条：尚未发现任何发布内容")
    return _("最近一条：{line}").format(line=post_line(n.last_title, n.last_link, n.last_date))


_DORMANCY_HEADS = {
    "warning": N_("🟡 更新预警：{who}已 {days} 天未更新。"),
    "dormant": N_(
        "🔴 不更新（僵尸号）预警：{who}已 {days} 天未更新，达到“两周未更新”单项否决标准。"
    ),
    "closure_candidate": N_("⛔ 建议关停：{who}已 {days} 天未更新。"),
}
_DORMANCY_TODO = {
    "warning": N_("请尽快发布内容：满 {dormant} 天未更新将被认定为“不更新”（单项否决）。"),
    "dormant": N_("请责任人立即更新；确实无力运营的，请单位提出清理整合或关停。"),
    "closure_candidate": N_("请单位研究清理整合或关停注销；关停前应先发布停更公告。"),
}


def alert_dormancy(n: DormancyAlert) -> Rendered:
    lines = [
        _(_DORMANCY_HEADS[n.state]).format(who=_who(n), days=n.days),
        _last_post(n),
        _(_DORMANCY_TODO[n.state]).format(dormant=n.dormant_days),
    ]
    if n.repeat:
        lines[0] = _("（第 {n} 次提醒）").format(n=n.repeat + 1) + lines[0]
    return "\n".join(lines), _open_button(n.account_id)


def alert_recovered(n: RecoveredAlert) -> Rendered:
    text = _("✅ 已恢复更新：{who}发布了新内容，预警解除。").format(who=_who(n))
    return text + "\n" + _last_post(n), _open_button(n.account_id)


def alert_feed_broken(n: FeedBrokenAlert) -> Rendered:
    lines = [
        _("⚠️ 监测源异常：{who}的订阅源已连续 {n} 次抓取失败。").format(who=_who(n), n=n.failures),
        _("原因：{why}").format(why=outcome_text(n.outcome or None, n.status)),
        _("最后一次成功：{at}").format(at=esc(n.last_success or _("从未成功"))),
        _(
            "这是监测故障，不计为不更新。请检查订阅源地址或 RSSHub 配置，可用 /check {id} 重试。"
        ).format(id=n.account_id),
    ]
    if n.repeat:
        lines[0] = _("（第 {n} 次提醒）").format(n=n.repeat + 1) + lines[0]
    return "\n".join(lines), _open_button(n.account_id)


def alert_feed_recovered(n: FeedRecoveredAlert) -> Rendered:
    text = _("✅ 监测源恢复：{who}的订阅源已恢复正常抓取。").format(who=_who(n))
    return text, _open_button(n.account_id)


def finding_veto(n: VetoFinding) -> Rendered:
    """A post with veto-level defects (单项否决): one alert listing every problem; act now."""
    problems = n.all_problems()
    categories = "、".join(dict.fromkeys(category_label(p.category) for p in problems))
    lines = [
        _("🚨 单项否决问题：{name}（{unit}，{platform}）发布的内容含{category}。").format(
            name=esc(n.name),
            unit=esc(n.unit),
            platform=platform_label(n.platform),
            category=categories,
        ),
    ]
    lines += [
        _("问题内容：{text}").format(text=shown(p.text))
        if len(problems) == 1
        else f"• {category_label(p.category)}：{shown(p.text)}"
        for p in problems
    ]
    if n.post_title:
        lines.append(_("所在文章：{title}").format(title=shown(n.post_title)))
    if n.post_link:
        lines.append(esc(n.post_link))
    lines.append(_("请立即核查，删除或更正该内容，并向政务公开办报告整改情况。"))
    return "\n".join(lines), _open_button(n.account_id)


RENDERERS: Renderers = Renderers(
    alert_dormancy,
    alert_recovered,
    alert_feed_broken,
    alert_feed_recovered,
    registration_pending,
    registration_decided,
    invitation_accepted,
    responsible_assigned,
    account_status_changed,
    roles_changed,
    active_changed,
    finding_veto,
    *REVIEW_RENDERERS,
    *CASE_RENDERERS,
    *ROBOT_RENDERERS,
    *WEBSITE_RENDERERS,
    *REPOST_RENDERERS,
)
"""Every notice kind's renderer, found by the type of its notice."""

__all__ = ["RENDERERS", "Action", "Copy", "Edit", "Rendered", "Send"]
