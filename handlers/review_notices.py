"""What the review workflow's cards and notices say; rendered by the outbox sender in the
reader's language, and reused by the decision handlers to redraw a card."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from governance.drafttext import unread_reason
from governance.i18n import N_
from governance.review import (
    DECISION_LABELS,
    RULE_LABELS,
    STATUS_LABELS,
    Decision,
    ReviewStatus,
    StageRule,
)
from handlers.callbacks import RvAct, RvMine
from handlers.delivery import Action, Copy, Edit, Rendered, Send
from handlers.keyboards import Keyboard
from handlers.render import category_label, esc, platform_label, shown, when
from models.reviews import ReviewRecord
from workflows.notices import (
    Approved,
    CardClosed,
    CardFinding,
    Delegated,
    Escalated,
    Expired,
    Progress,
    Rejected,
    Reminder,
    Returned,
    ReviewCard,
    RouteBroken,
    Stuck,
    Unreviewed,
)


def review_status(value: str) -> str:
    try:
        return _(STATUS_LABELS[ReviewStatus(value)])
    except ValueError:
        return esc(value)


def decision_label(value: str) -> str:
    try:
        return _(DECISION_LABELS[Decision(value)])
    except ValueError:
        return esc(value)


def rule_label(value: str) -> str:
    return _(RULE_LABELS[StageRule(value)])


def findings_text(findings: list[CardFinding], total: int) -> str:
    """The pre-check summary, each finding's span highlighted in its context."""
    if not total:
        return _("自动预检：未发现问题。")
    lines = [_("⚠️ 自动预检发现 {n} 处问题：").format(n=total)]
    for f in findings:
        if f.category in ("empty", "too_long"):
            lines.append(f"• {category_label(f.category)}")
            continue
        if f.category == "unreadable":
            name = f.place.file if f.place else ""
            reason = unread_reason(f.rule, f.suggestion, _)
            lines.append(f"• {category_label(f.category)}：{shown(name)} {esc(reason)}")
            continue
        hint = ""
        if f.suggestion:
            hint = " " + _("（建议：{text}）").format(text=esc(f.suggestion))
        where = ""
        if f.place is not None:
            where = " " + _("（位置：{place}）").format(place=shown(f.place.label(_)))
        lines.append(
            f"• {category_label(f.category)}：…{shown(f.before)}"
            f"<u><b>{esc(f.hit)}</b></u>{shown(f.after)}…{where}{hint}"
        )
    if total > len(findings):
        lines.append(_("……另有 {n} 处").format(n=total - len(findings)))
    return "\n".join(lines)


def diff_text(diff: list[tuple[str, str]]) -> str:
    if not diff:
        return ""
    out = []
    for op, chunk in diff:
        if op == "added":
            out.append(f"<u>{shown(chunk)}</u>")
        elif op == "removed":
            out.append(f"<s>{shown(chunk)}</s>")
        else:
            out.append(shown(chunk))
    return _("与上一版相比的修改（删除线为删去，下划线为新增）：") + "\n" + "".join(out)[:1500]


def card_text(n: ReviewCard) -> str:
    lines = [
        _("📝 送审稿 {number}（第 {version} 版）").format(number=esc(n.number), version=n.version),
        _("标题：{title}").format(title=shown(n.title)),
        _("账号：{account}（{platform}）").format(
            account=esc(n.account), platform=platform_label(n.platform)
        ),
        _("提交人：{who}").format(who=esc(n.submitter)),
        _("审核环节：{stage}（第 {no}/{count} 环节，{rule}）").format(
            stage=esc(n.stage), no=n.stage_no, count=n.stage_count, rule=rule_label(n.rule)
        ),
        _("审核期限：{at}").format(at=esc(n.deadline)),
    ]
    if n.planned_at:
        lines.append(_("计划发布：{at}").format(at=esc(n.planned_at)))
    if n.on_behalf_of:
        lines.append(_("你代 {who} 审核（代审）。").format(who=esc(n.on_behalf_of)))
    lines += ["", findings_text(n.findings, n.finding_count)]
    if n.diff:
        lines += ["", diff_text(n.diff)]
    lines += ["", _("稿件原文见上方消息。请审核：")]
    return "\n".join(lines)


def card_keyboard(review_id: int, round: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for action, label in (
        ("approve", _("✅ 通过")),
        ("comment", _("✍️ 通过并附意见")),
        ("return", _("↩️ 退回修改")),
        ("reject", _("❌ 驳回")),
        ("history", _("📜 查看记录")),
    ):
        kb.button(text=label, callback_data=RvAct(review_id=review_id, round=round, action=action))
    kb.adjust(2, 2, 1)
    return kb.as_markup()


def history_keyboard(review_id: int, round: int) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(
        text=_("📜 查看记录"),
        callback_data=RvAct(review_id=review_id, round=round, action="history"),
    )
    return kb.as_markup()


def review_card(n: ReviewCard) -> list[Action]:
    """Copies of the submitter's original messages, then the card with the buttons."""
    copies: list[Action] = [Copy(chat, message) for chat, message in n.copies]
    return [*copies, Send(card_text(n), card_keyboard(n.review_id, n.round))]


def closed_text(n: CardClosed) -> str:
    template = {
        "approved": _("✅ {number}《{title}》{stage}：已由 {by} 审核通过，无需你再处理。"),
        "returned": _("↩️ {number}《{title}》{stage}：已由 {by} 退回修改，无需你再处理。"),
        "rejected": _("❌ {number}《{title}》{stage}：已由 {by} 驳回，无需你再处理。"),
        "withdrawn": _("🗂 {number}《{title}》已由提交人撤回，无需再审核。"),
        "expired": _("⌛ {number}《{title}》已过计划发布时间仍未审结，已过期，无需再审核。"),
    }.get(n.outcome, _("{number}《{title}》已处理。"))
    return template.format(
        number=esc(n.number), title=shown(n.title), stage=esc(n.stage), by=esc(n.by)
    )


def card_closed(n: CardClosed) -> list[Action]:
    return [Edit(n.ref, closed_text(n), None)]


def _mine_button(review_id: int, action: str, label: str) -> InlineKeyboardMarkup:
    kb = Keyboard()
    kb.button(text=label, callback_data=RvMine(review_id=review_id, action=action))
    return kb.as_markup()


def progress(n: Progress) -> Rendered:
    return (
        _("➡️ 你的送审稿 {number}《{title}》已通过{passed}（{by}），进入{next}。").format(
            number=esc(n.number),
            title=shown(n.title),
            passed=esc(n.passed),
            by=esc(n.by),
            next=esc(n.next),
        ),
        None,
    )


def approved(n: Approved) -> Rendered:
    return (
        _("✅ 你的送审稿 {number}《{title}》已审核通过（终审：{by}），可以发布。").format(
            number=esc(n.number), title=shown(n.title), by=esc(n.by)
        ),
        _mine_button(n.review_id, "history", _("📜 审核记录")),
    )


def returned(n: Returned) -> Rendered:
    return (
        _("↩️ 你的送审稿 {number}《{title}》在{stage}被 {by} 退回修改。\n理由：{reason}").format(
            number=esc(n.number),
            title=shown(n.title),
            stage=esc(n.stage),
            by=esc(n.by),
            reason=esc(n.reason),
        ),
        _mine_button(n.review_id, "resubmit", _("✏️ 提交修改稿")),
    )


def rejected(n: Rejected) -> Rendered:
    return (
        _(
            "❌ 你的送审稿 {number}《{title}》在{stage}被 {by} 驳回，不得发布。\n理由：{reason}"
        ).format(
            number=esc(n.number),
            title=shown(n.title),
            stage=esc(n.stage),
            by=esc(n.by),
            reason=esc(n.reason),
        ),
        None,
    )


def expired(n: Expired) -> Rendered:
    return (
        _(
            "⌛ 你的送审稿 {number}《{title}》在计划发布时间 {at} 前未审结，已过期，不得发布。"
        ).format(number=esc(n.number), title=shown(n.title), at=esc(n.planned_at)),
        None,
    )


def reminder(n: Reminder) -> Rendered:
    if n.due:
        text = _("⏰ 送审稿 {number}《{title}》（{stage}）已到审核期限 {at}，请尽快处理。")
    else:
        text = _("⏳ 送审稿 {number}《{title}》（{stage}）审核时限已过半，期限 {at}。")
    body = text.format(
        number=esc(n.number), title=shown(n.title), stage=esc(n.stage), at=esc(n.deadline)
    )
    return body + "\n" + _("发送 /pending 查看待审稿件。"), None


def escalated(n: Escalated) -> Rendered:
    waiting = "、".join(esc(name) for name in n.waiting) or "—"
    return (
        _(
            "🚨 送审稿 {number}《{title}》（账号“{account}”）{stage}"
            "已超过审核期限 {at} 仍未处理。\n"
            "待处理：{waiting}"
        ).format(
            number=esc(n.number),
            title=shown(n.title),
            account=esc(n.account),
            stage=esc(n.stage),
            at=esc(n.deadline),
            waiting=waiting,
        ),
        None,
    )


def stuck(n: Stuck) -> Rendered:
    return (
        _(
            "⚠️ 送审稿 {number}《{title}》无法进入{stage}：“{unit}”该环节没有可用的审核人"
            "（人员停用或调离，或同一人不能审核两个环节）。请用 /routes 调整审核流程或人员。"
        ).format(
            number=esc(n.number),
            title=shown(n.title),
            stage=esc(n.stage),
            unit=esc(n.unit),
        ),
        None,
    )


def route_broken(n: RouteBroken) -> Rendered:
    params = {k: esc(_(v)) if isinstance(v, str) else esc(v) for k, v in n.why_params.items()}
    try:
        why = _(n.why).format(**params)
    except (KeyError, IndexError, ValueError):
        why = _(n.why)
    return (
        _("⚠️ “{scope}”的审核流程已无法满足：{why}\n请用 /routes 调整。").format(
            scope=esc(n.scope), why=why
        ),
        None,
    )


def delegated(n: Delegated) -> Rendered:
    return (
        _("📌 {who} 委托你在 {until} 前代为审核其送审稿件。").format(
            who=esc(n.who), until=esc(n.until)
        ),
        None,
    )


def unreviewed(n: Unreviewed) -> Rendered:
    link = ""
    if n.link.lower().startswith(("http://", "https://")):
        link = "\n" + esc(n.link)
    return (
        _(
            "🚩 未经审核发布：账号“{account}”（{platform}）于 {at} 发布的《{title}》"
            "没有对应的审核通过稿件。"
        ).format(
            account=esc(n.account),
            platform=platform_label(n.platform),
            at=esc(n.published_at),
            title=shown(n.title),
        )
        + link,
        None,
    )


REVIEW_RENDERERS = (
    review_card,
    card_closed,
    progress,
    approved,
    returned,
    rejected,
    expired,
    reminder,
    escalated,
    stuck,
    route_broken,
    delegated,
    unreviewed,
)


EVENT_LABELS = {
    "review.submitted": N_("提交送审"),
    "review.resubmitted": N_("提交修改稿"),
    "review.withdrawn": N_("提交人撤回"),
    "review.expired": N_("超过计划发布时间，已过期"),
    "review.escalated": N_("超过审核期限，已督办"),
    "review.stuck": N_("环节无可用审核人，已报告"),
    "review.published": N_("已发布（与发布内容匹配）"),
}


def record_text(record: ReviewRecord, tz: ZoneInfo) -> str:
    """The full history of one review, as shown by /review and 查看记录."""
    review = record.review
    status = review_status(review.status)
    if review.status == ReviewStatus.IN_REVIEW.value:
        status += _("（{stage}）").format(stage=esc(review.stage.name))
    lines = [
        _("📜 审核记录 {number}").format(number=esc(review.number)),
        _("标题：{title}").format(title=esc(review.title)),
        _("账号：{account}（{platform}）").format(
            account=esc(record.account_name), platform=platform_label(record.account_platform)
        ),
        _("单位：{unit}").format(unit=esc(record.unit_name)),
        _("提交人：{who}").format(who=esc(record.submitter)),
        _("状态：{status}").format(status=status),
    ]
    if review.planned_at:
        lines.append(_("计划发布：{at}").format(at=when(review.planned_at, tz)))
    if review.published_at:
        link = esc(review.published_link) if review.published_link else "—"
        lines.append(_("已发布：{at} {link}").format(at=when(review.published_at, tz), link=link))
    lines += ["", _("版本：")]
    for v in record.versions:
        lines.append(
            _("第 {n} 版 · {at} · 预检 {count} 处问题").format(
                n=v.number, at=when(v.created_at, tz), count=len(v.findings)
            )
        )
    lines += ["", _("审核经过：")]
    if not record.decisions:
        lines.append(_("（尚无审核意见）"))
    for line in record.decisions:
        d = line.decision
        who = esc(line.name)
        if line.on_behalf_of:
            who += _("（代 {who}）").format(who=esc(line.on_behalf_of))
        item = _("{stage} · 第 {v} 版 · {who} · {decision} · {at}").format(
            stage=esc(d.stage_name),
            v=d.draft_version,
            who=who,
            decision=decision_label(d.decision),
            at=when(d.at, tz),
        )
        if d.comment:
            item += "\n   " + _("意见：{text}").format(text=esc(d.comment))
        lines.append("• " + item)
    if record.events:
        lines += ["", _("其他记录：")]
        for at, action, who_name in record.events:
            label = EVENT_LABELS.get(action)
            text = _(label) if label else esc(action)
            suffix = f" · {esc(who_name)}" if who_name else ""
            lines.append(f"• {when(at, tz)} · {text}{suffix}")
    return "\n".join(lines)[:4000]
