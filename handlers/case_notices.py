"""Rectification and digest messages queued in the outbox, rendered in the reader's language.

Each renderer is a pure function of the stored parameters; buttons carry case ids only, and the
handler pressed checks who may act.
"""

from __future__ import annotations

from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from governance.cases import CASE_KIND_LABELS, CaseKind
from handlers.callbacks import AccOpen, CaseAct, CaseList, CaseOpen, DigestList
from handlers.delivery import Rendered
from handlers.keyboards import Keyboard
from handlers.render import category_label, esc, platform_label, shown
from workflows.notices import (
    CaseClosed,
    CaseClosureRecommended,
    CaseExplained,
    CaseExtended,
    CaseInterviewed,
    CaseInterviewSuggested,
    CaseNotice,
    CaseOpened,
    CaseOverdue,
    CaseResolved,
    Digest,
)


def case_kind_label(kind: str) -> str:
    try:
        return _(CASE_KIND_LABELS[CaseKind(kind)])
    except ValueError:
        return esc(kind)


def problem_line(problem: dict[str, Any]) -> str:
    """One problem a case covers, as a person reads it; stored text is escaped."""
    kind = problem.get("kind")
    if kind == "dormant":
        return _("不更新：已 {days} 天未发布内容").format(days=problem.get("days", "?"))
    if kind == "finding":
        label = category_label(str(problem.get("category", "")))
        return f"{label}：{shown(str(problem.get('text', '')))}"
    return shown(str(problem.get("text", "")))


def problems_text(n: CaseNotice) -> str:
    lines = ["• " + problem_line(x) for x in n.problems]
    if n.more:
        lines.append(_("……另有 {n} 项").format(n=n.more))
    return "\n".join(lines)


def _who(n: CaseNotice) -> str:
    return _("{unit}的“{name}”（{platform}）").format(
        unit=esc(n.unit), name=esc(n.name), platform=platform_label(n.platform)
    )


def _buttons(n: CaseNotice, *actions: tuple[str, str]) -> InlineKeyboardMarkup:
    kb = Keyboard()
    for action, label in actions:
        kb.button(text=label, callback_data=CaseAct(case_id=n.case_id, action=action))
    kb.button(text=_("查看整改"), callback_data=CaseOpen(case_id=n.case_id))
    kb.button(text=_("查看账号"), callback_data=AccOpen(account_id=n.account_id))
    kb.adjust(1)
    return kb.as_markup()


def case_opened(n: CaseOpened) -> Rendered:
    text = "\n".join(
        [
            _("📋 整改通知（编号 {id}）：{who}").format(id=n.case_id, who=_who(n)),
            _("问题类型：{kind}").format(kind=case_kind_label(n.case_kind)),
            problems_text(n),
            _("整改期限：{deadline}（{days}个工作日内）").format(
                deadline=esc(n.deadline), days=n.days
            )
            if n.days
            else _("整改期限：{deadline}").format(deadline=esc(n.deadline)),
            _("请按期整改，并点击下方按钮提交整改说明。账号恢复更新或问题消除后，整改自动办结。"),
        ]
    )
    return text, _buttons(n, ("explain", _("✍️ 提交整改说明")))


def case_explained(n: CaseExplained) -> Rendered:
    text = _("✍️ {who}的责任人已提交整改说明（整改编号 {id}）：\n{text}").format(
        who=_who(n), id=n.case_id, text=esc(n.explanation)
    )
    return text, _buttons(n)


def case_overdue(n: CaseOverdue) -> Rendered:
    text = "\n".join(
        [
            _("⏰ 整改逾期：{who}的整改（编号 {id}）已超过期限 {missed}，仍未整改到位。").format(
                who=_who(n), id=n.case_id, missed=esc(n.missed)
            ),
            problems_text(n),
            _("已报告单位管理员。请尽快整改，新的期限：{deadline}。").format(
                deadline=esc(n.deadline)
            ),
        ]
    )
    return text, _buttons(n, ("explain", _("✍️ 提交整改说明")))


def case_interview_suggested(n: CaseInterviewSuggested) -> Rendered:
    text = "\n".join(
        [
            _("⏰ 整改逾期：{who}的整改（编号 {id}）已超过期限 {missed}。").format(
                who=_who(n), id=n.case_id, missed=esc(n.missed)
            ),
            problems_text(n),
            _(
                "建议单位对责任人进行约谈，约谈后请点击下方按钮记录。"
                "若到 {deadline} 仍未整改，将建议管理员关停该账号。"
            ).format(deadline=esc(n.deadline)),
        ]
    )
    return text, _buttons(n, ("interview", _("🗣 记录约谈")))


def case_interviewed(n: CaseInterviewed) -> Rendered:
    text = _("🗣 {who}的整改（编号 {id}）：单位已约谈责任人。\n约谈情况：{note}").format(
        who=_who(n), id=n.case_id, note=esc(n.note)
    )
    return text, _buttons(n)


def case_closure_recommended(n: CaseClosureRecommended) -> Rendered:
    text = "\n".join(
        [
            _("⛔ 建议关停：{who}的整改（编号 {id}）第二次逾期（期限 {missed}）。").format(
                who=_who(n), id=n.case_id, missed=esc(n.missed)
            ),
            problems_text(n),
            _("请确认关停（需提供停更公告链接）或延期整改。"),
        ]
    )
    return text, _buttons(n, ("close", _("⛔ 确认关停")), ("extend", _("⏳ 延期整改")))


def case_extended(n: CaseExtended) -> Rendered:
    text = _("⏳ {who}的整改（编号 {id}）已由管理员延期，新的期限：{deadline}。").format(
        who=_who(n), id=n.case_id, deadline=esc(n.deadline)
    )
    return text, _buttons(n, ("explain", _("✍️ 提交整改说明")))


def case_resolved(n: CaseResolved) -> Rendered:
    text = _("✅ 整改办结：{who}的整改（编号 {id}）已完成。\n{resolution}").format(
        who=_who(n), id=n.case_id, resolution=esc(_(n.resolution))
    )
    return text, _buttons(n)


def case_closed(n: CaseClosed) -> Rendered:
    text = _("⛔ {who}因整改逾期已关停（整改编号 {id}）。\n停更公告：{url}").format(
        who=_who(n), id=n.case_id, url=esc(n.notice_url)
    )
    return text, None


def digest(n: Digest) -> Rendered:
    """The daily (admins) or weekly (a unit's managers) digest: short, with list buttons."""
    unit_id, days = n.unit_id, n.days or 1
    if n.period == "weekly":
        head = _("📊 {unit}周报（{label}）").format(unit=esc(n.unit), label=esc(n.label))
        since = _("近 7 天")
    else:
        head = _("📊 每日通报（{label}）").format(label=esc(n.label))
        since = _("昨日以来")
    problems = n.new_problems
    if problems:
        detail = "、".join(
            f"{category_label(c)} {n}" for c, n in sorted(problems.items(), key=lambda x: -x[1])
        )
        problem_line = _("{since}新发现问题 {n} 项（{detail}），其中单项否决 {veto} 项").format(
            since=since, n=sum(problems.values()), detail=detail, veto=n.veto_problems
        )
    else:
        problem_line = _("{since}未发现新问题").format(since=since)
    lines = [head, "• " + problem_line]
    dormant_n = n.newly_dormant_total
    if dormant_n:
        names = "、".join(esc(name) for _id, name in n.newly_dormant)
        more = _("等") if dormant_n > len(n.newly_dormant) else ""
        lines.append(
            "• "
            + _("新增不更新账号 {n} 个：{names}{more}").format(n=dormant_n, names=names, more=more)
        )
    else:
        lines.append("• " + _("新增不更新账号：无"))
    lines.append(
        "• "
        + _(
            "整改：新开 {opened}，办结 {resolved}，新逾期 {overdue}；在办 {active}（逾期 {now}）"
        ).format(
            opened=n.cases_opened,
            resolved=n.cases_resolved,
            overdue=n.cases_overdue,
            active=n.cases_active,
            now=n.cases_overdue_now,
        )
    )
    lines.append("• " + _("监测源异常 {n} 个（监测故障，不计为不更新）").format(n=n.feeds_broken))
    lines.append("• " + _("低于承诺更新频率 {n} 个").format(n=n.below_plan))
    lines.append("• " + _("超时未审的送审稿 {n} 件").format(n=n.reviews_late))
    for task_id, title, pending, first in n.reposts_overdue:
        more = _("等") if pending > len(first) else ""
        lines.append(
            "• "
            + _("转载任务 #{id}《{title}》逾期未转载 {n} 个：{names}{more}").format(
                id=task_id,
                title=esc(title),
                n=pending,
                names="、".join(esc(name) for name in first),
                more=more,
            )
        )
    kb = Keyboard()
    kb.button(text=_("整改清单"), callback_data=CaseList(unit_id=unit_id))
    kb.button(text=_("不更新账号"), callback_data=DigestList(kind="dormant", unit_id=unit_id))
    kb.button(
        text=_("新问题"), callback_data=DigestList(kind="problems", unit_id=unit_id, days=days)
    )
    kb.button(text=_("监测源异常"), callback_data=DigestList(kind="feeds", unit_id=unit_id))
    kb.button(text=_("低于承诺"), callback_data=DigestList(kind="below_plan", unit_id=unit_id))
    kb.adjust(2)
    return "\n".join(lines), kb.as_markup()


CASE_RENDERERS = (
    case_opened,
    case_explained,
    case_overdue,
    case_interview_suggested,
    case_interviewed,
    case_closure_recommended,
    case_extended,
    case_resolved,
    case_closed,
    digest,
)
