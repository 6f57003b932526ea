"""Messages to other people, queued in the outbox and rendered when sent.

Each kind is a pure function of its stored parameters, evaluated in the recipient's language by
the sender, so what was decided at enqueue time is what the person reads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder, InlineKeyboardMarkup
from sqlmodel.ext.asyncio.session import AsyncSession

from governance.i18n import N_
from governance.roles import Role
from handlers.callbacks import AccOpen, RegDecision
from handlers.delivery import Action, Copy, Edit, Rendered, Send, actions_of
from handlers.render import esc, outcome_text, platform_label, post_line, role_label
from handlers.review_notices import REVIEW_RENDERERS
from models import outbox, people
from models.accounts import Account
from models.people import Unit, User


def account_params(
    account: Account, *, unit: Unit | None, responsible: User | None
) -> dict[str, Any]:
    return {
        "account_id": account.id,
        "version": account.version,
        "name": account.name,
        "platform": account.platform,
        "platform_ref": account.platform_ref,
        "unit": unit.name if unit else "",
        "responsible": responsible.name if responsible else "",
        "posts_per_week": account.posts_per_week,
        "necessity": account.necessity,
        "operating_plan": account.operating_plan,
        "feed_url": account.feed_url or "",
        "duplicate_reason": account.duplicate_reason or "",
    }


def _summary(p: dict[str, Any]) -> str:
    lines = [
        f"<b>{esc(p['name'])}</b>（{platform_label(p['platform'])}）",
        _("平台账号/主页：{ref}").format(ref=esc(p["platform_ref"])),
        _("所属单位：{unit}").format(unit=esc(p["unit"])),
        _("责任人：{person}").format(person=esc(p["responsible"])),
        _("承诺更新：每周 {n} 条").format(n=p["posts_per_week"]),
        _("开设理由：{text}").format(text=esc(p["necessity"])),
        _("运营计划：{text}").format(text=esc(p["operating_plan"])),
        _("订阅源：{url}").format(url=esc(p["feed_url"]) if p["feed_url"] else _("未填写")),
    ]
    if p.get("duplicate_reason"):
        lines.append(_("同平台多账号理由：{text}").format(text=esc(p["duplicate_reason"])))
    return "\n".join(lines)


def registration_pending(p: dict[str, Any]) -> Rendered:
    text = (
        _("📝 新的账号登记申请，申请人：{who}").format(who=esc(p["applicant"]))
        + "\n\n"
        + _summary(p)
        + "\n\n"
        + _("请审核：通过后账号进入“在用”状态。")
    )
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ 通过"),
        callback_data=RegDecision(account_id=p["account_id"], approve=True, version=p["version"]),
    )
    kb.button(
        text=_("❌ 驳回"),
        callback_data=RegDecision(account_id=p["account_id"], approve=False, version=p["version"]),
    )
    kb.adjust(2)
    return text, kb.as_markup()


def registration_decided(p: dict[str, Any]) -> Rendered:
    if p["approved"]:
        text = _("✅ 你提交的账号登记“{name}”已由 {who} 审核通过，账号已进入“在用”状态。").format(
            name=esc(p["name"]), who=esc(p["decider"])
        )
    else:
        text = _("❌ 你提交的账号登记“{name}”被 {who} 驳回。\n理由：{reason}").format(
            name=esc(p["name"]), who=esc(p["decider"]), reason=esc(p["reason"])
        )
    kb = InlineKeyboardBuilder()
    kb.button(text=_("查看账号"), callback_data=AccOpen(account_id=p["account_id"]))
    return text, kb.as_markup()


def invitation_accepted(p: dict[str, Any]) -> Rendered:
    return (
        _("👋 {who} 已通过你的邀请加入{unit}，角色：{role}。").format(
            who=esc(p["who"]),
            unit=f"“{esc(p['unit'])}”" if p.get("unit") else "",
            role=role_label(p["role"]),
        ),
        None,
    )


def responsible_assigned(p: dict[str, Any]) -> Rendered:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("查看账号"), callback_data=AccOpen(account_id=p["account_id"]))
    return (
        _(
            "📌 你已被指定为账号“{name}”（{platform}）的责任人，该账号的预警和整改通知将发送给你。"
        ).format(name=esc(p["name"]), platform=platform_label(p["platform"])),
        kb.as_markup(),
    )


def account_status_changed(p: dict[str, Any]) -> Rendered:
    from handlers.render import status_label

    text = _("ℹ️ 账号“{name}”的状态已由 {who} 变更为“{status}”。").format(
        name=esc(p["name"]), who=esc(p["who"]), status=status_label(p["status"])
    )
    if p.get("reason"):
        text += "\n" + _("原因：{reason}").format(reason=esc(p["reason"]))
    return text, None


def roles_changed(p: dict[str, Any]) -> Rendered:
    roles = "、".join(role_label(r) for r in p["roles"]) or _("无角色")
    return _("ℹ️ 你的角色已由 {who} 调整为：{roles}。发送 /help 查看可用命令。").format(
        who=esc(p["who"]), roles=roles
    ), None


def account_disabled(p: dict[str, Any]) -> Rendered:
    if p["active"]:
        return _("ℹ️ 你的账号已由 {who} 恢复使用。").format(who=esc(p["who"])), None
    return _("ℹ️ 你的账号已由 {who} 停用，如有疑问请联系管理员。").format(who=esc(p["who"])), None


def _open_button(p: dict[str, Any]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("查看账号"), callback_data=AccOpen(account_id=p["account_id"]))
    return kb.as_markup()


def _who(p: dict[str, Any]) -> str:
    if p.get("unit"):
        return _("{unit}的“{name}”（{platform}）").format(
            unit=esc(p["unit"]), name=esc(p["name"]), platform=platform_label(p["platform"])
        )
    return _("“{name}”（{platform}）").format(
        name=esc(p["name"]), platform=platform_label(p["platform"])
    )


def _last_post(p: dict[str, Any]) -> str:
    if not p.get("last_title") and not p.get("last_date"):
        return _("最近一条：尚未发现任何发布内容")
    return _("最近一条：{line}").format(
        line=post_line(p.get("last_title", ""), p.get("last_link"), p.get("last_date", ""))
    )


def alert_dormancy(p: dict[str, Any]) -> Rendered:
    state = p["state"]
    head = {
        "warning": N_("🟡 更新预警：{who}已 {days} 天未更新。"),
        "dormant": N_(
            "🔴 不更新（僵尸号）预警：{who}已 {days} 天未更新，达到“两周未更新”单项否决标准。"
        ),
        "closure_candidate": N_("⛔ 建议关停：{who}已 {days} 天未更新。"),
    }[state]
    todo = {
        "warning": N_("请尽快发布内容：满 {dormant} 天未更新将被认定为“不更新”（单项否决）。"),
        "dormant": N_("请责任人立即更新；确实无力运营的，请单位提出清理整合或关停。"),
        "closure_candidate": N_("请单位研究清理整合或关停注销；关停前应先发布停更公告。"),
    }[state]
    lines = [
        _(head).format(who=_who(p), days=p["days"]),
        _last_post(p),
        _(todo).format(dormant=p.get("dormant_days", 14)),
    ]
    if p.get("repeat"):
        lines[0] = _("（第 {n} 次提醒）").format(n=p["repeat"] + 1) + lines[0]
    return "\n".join(lines), _open_button(p)


def alert_recovered(p: dict[str, Any]) -> Rendered:
    text = _("✅ 已恢复更新：{who}发布了新内容，预警解除。").format(who=_who(p))
    return text + "\n" + _last_post(p), _open_button(p)


def alert_feed_broken(p: dict[str, Any]) -> Rendered:
    lines = [
        _("⚠️ 监测源异常：{who}的订阅源已连续 {n} 次抓取失败。").format(
            who=_who(p), n=p.get("failures", 0)
        ),
        _("原因：{why}").format(why=outcome_text(p.get("outcome"), p.get("status"))),
        _("最后一次成功：{at}").format(at=esc(p.get("last_success") or _("从未成功"))),
        _(
            "这是监测故障，不计为不更新。请检查订阅源地址或 RSSHub 配置，可用 /check {id} 重试。"
        ).format(id=p["account_id"]),
    ]
    if p.get("repeat"):
        lines[0] = _("（第 {n} 次提醒）").format(n=p["repeat"] + 1) + lines[0]
    return "\n".join(lines), _open_button(p)


def alert_feed_recovered(p: dict[str, Any]) -> Rendered:
    return _("✅ 监测源恢复：{who}的订阅源已恢复正常抓取。").format(who=_who(p)), _open_button(p)


async def notify_admins(
    session: AsyncSession,
    *,
    kind: str,
    params: dict[str, Any],
    now: Any,
    dedup_prefix: str,
    exclude_user_id: int | None = None,
) -> int:
    """Queue one message per active admin (except the actor)."""
    count = 0
    for admin in await people.users_with_role(session, role=Role.ADMIN):
        if admin.id == exclude_user_id:
            continue
        queued = await outbox.enqueue(
            session,
            chat_id=admin.telegram_id,
            kind=kind,
            params=params,
            now=now,
            dedup_key=f"{dedup_prefix}:{admin.id}",
        )
        count += queued is not None
    return count


def finding_veto(p: dict[str, Any]) -> Rendered:
    """A veto-level defect (单项否决) in a published post: act now."""
    from handlers.render import category_label

    lines = [
        _("🚨 单项否决问题：{name}（{unit}，{platform}）发布的内容含{category}。").format(
            name=esc(p["name"]),
            unit=esc(p["unit"]),
            platform=platform_label(p["platform"]),
            category=category_label(p["category"]),
        ),
        _("问题内容：{text}").format(text=esc(p["text"])),
    ]
    if p.get("post_title"):
        lines.append(_("所在文章：{title}").format(title=esc(p["post_title"])))
    if p.get("post_link"):
        lines.append(esc(p["post_link"]))
    lines.append(_("请立即核查，删除或更正该内容，并向政务公开办报告整改情况。"))
    kb = InlineKeyboardBuilder()
    kb.button(text=_("查看账号"), callback_data=AccOpen(account_id=p["account_id"]))
    return "\n".join(lines), kb.as_markup()


RENDERERS: dict[str, Callable[[dict[str, Any]], Rendered | list[Action]]] = {
    "alert.dormancy": alert_dormancy,
    "alert.recovered": alert_recovered,
    "alert.feed_broken": alert_feed_broken,
    "alert.feed_recovered": alert_feed_recovered,
    "registration.pending": registration_pending,
    "registration.decided": registration_decided,
    "invitation.accepted": invitation_accepted,
    "account.responsible_assigned": responsible_assigned,
    "account.status_changed": account_status_changed,
    "user.roles_changed": roles_changed,
    "user.active_changed": account_disabled,
    "finding.veto": finding_veto,
    **REVIEW_RENDERERS,
}

__all__ = ["RENDERERS", "Action", "Copy", "Edit", "Rendered", "Send", "actions_of"]
