"""A report's figures as words: fault, basis and verdict labels, each account's explanation and
the short summary for the chat; split from :mod:`documents.reportbook`, which lays out sheets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from documents.ledgerbook import Translate, _identity
from documents.repostsheet import overdue_lines
from governance.activity import DormancyState
from governance.evidence import BASIS_LABELS, FAULT_LABELS, LACK_LABELS, Fault, Lack
from governance.i18n import N_
from governance.reporting import FAIL, PASS, UNASSESSABLE, VERDICT_LABELS, AccountLine, Report
from governance.scoring import Deduction
from governance.vocabulary import category_label


def _day(value: object, tz: ZoneInfo | None = None) -> str:
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).strftime("%Y-%m-%d")
    return "—" if value is None else str(value)


def fault_label(fault: str, status: object, tr: Translate = _identity) -> str:
    try:
        return tr(FAULT_LABELS[Fault(fault)]).format(status=status or "?")
    except ValueError:
        return fault


def lack_label(lack: str, oldest: object, tr: Translate = _identity) -> str:
    try:
        return tr(LACK_LABELS[Lack(lack)]).format(date=_day(oldest))
    except ValueError:
        return lack


def reason_text(message: str, params: Mapping[str, object], tr: Translate = _identity) -> str:
    """A deduction's or verdict's reason in the reader's language."""
    shown: dict[str, object] = {}
    for key, value in params.items():
        if key == "category" and isinstance(value, str):
            shown[key] = category_label(value, tr)
        elif key == "fault" and isinstance(value, str):
            shown[key] = fault_label(value, params.get("status"), tr)
        elif key == "lack" and isinstance(value, str):
            shown[key] = lack_label(value, params.get("date"), tr)
        else:
            shown[key] = value
    return tr(message).format(**shown)


def _deductions(items: Sequence[Deduction], tr: Translate) -> str:
    return "；".join(
        f"{reason_text(d.reason, d.params, tr)} −{d.points}"
        if d.points
        else reason_text(d.reason, d.params, tr)
        for d in items
    )


def basis_text(line: AccountLine, tz: ZoneInfo, tr: Translate = _identity) -> str:
    """Where the days without posts are counted from, or why they cannot be (覆盖不足)."""
    silence = line.silence
    if not line.reading.readable or silence is None:
        return "—"
    if silence.basis is not None:
        text = tr(BASIS_LABELS[silence.basis]).format(date=_day(silence.since, tz))
    else:
        text = lack_label(silence.lack or "", _day(silence.oldest_seen, tz), tr)
    if line.covered_from is not None:
        text += tr(N_("；期内覆盖自 {date}")).format(date=_day(line.covered_from, tz))
    return text


def outcome_label(outcome: str, tr: Translate = _identity) -> str:
    label = VERDICT_LABELS.get(outcome)
    return tr(label) if label else outcome


def explanation(line: AccountLine, tz: ZoneInfo, tr: Translate = _identity) -> str:
    """Deductions and vetoes of a scored line; what could not be assessed, and why, otherwise."""
    if not line.reading.readable:
        fault = line.reading.fault.value if line.reading.fault else ""
        return tr(N_("订阅源无法读取：{fault}；不评分")).format(
            fault=fault_label(fault, line.reading.status, tr)
        )
    parts = []
    if line.silence is not None and line.silence.days is None:
        parts.append(tr(N_("更新情况无法判断：{why}")).format(why=basis_text(line, tz, tr)))
    scored = _deductions([*line.score.vetoes, *line.score.deductions], tr)
    if scored and line.scored:
        parts.append(scored)
    return "；".join(parts)


def summary_lines(report: Report, tr: Translate = _identity, *, top: int = 3) -> list[str]:
    """The short summary for the chat and the console: plain text, the caller escapes it."""
    n = len(report.accounts)
    lines = [
        tr(N_("时段：{period}")).format(period=report.period.label),
        tr(N_("范围：{scope}")).format(scope=report.scope),
        tr(
            N_(
                "账号 {n} 个，期内发布 {posts} 条；合格 {passed} 个，不合格 {failed} 个，"
                "无法评估 {unassessable} 个。"
            )
        ).format(
            n=n,
            posts=sum(line.posts for line in report.accounts),
            passed=report.passed,
            failed=report.failed,
            unassessable=report.unassessable,
        ),
        tr(N_("不更新 {dormant} 个，更新预警 {warning} 个，无法判断 {unknown} 个。")).format(
            dormant=report.states.get(DormancyState.DORMANT, 0)
            + report.states.get(DormancyState.CLOSURE_CANDIDATE, 0),
            warning=report.states.get(DormancyState.WARNING, 0),
            unknown=report.states.get(DormancyState.UNKNOWN, 0),
        ),
        tr(N_("发现问题 {n} 个（按账号去重），其中单项否决 {veto} 个。")).format(
            n=len(report.findings), veto=report.vetoes
        ),
    ]
    faults: dict[str, int] = {}
    for line in report.accounts:
        if not line.reading.readable and line.reading.fault is not None:
            label = fault_label(line.reading.fault, line.reading.status, tr)
            faults[label] = faults.get(label, 0) + 1
    if faults:
        lines.append(
            tr(N_("无法评估的原因：{faults}。")).format(
                faults="；".join(f"{k} {v} 个" for k, v in sorted(faults.items()))
            )
        )
    ranked = [u for u in report.units if u.rank.accounts]
    if len(ranked) > 1:
        ranking = "；".join(
            tr(N_("{rank}. {unit} {score} 分")).format(
                rank=u.rank.rank, unit=u.unit, score=u.rank.average
            )
            for u in ranked[:top]
        )
        lines.append(tr(N_("单位排名：{ranking}")).format(ranking=ranking))
    lines += overdue_lines(report, tr)
    if report.inspection is not None:
        verdicts = report.inspection.verdicts
        lines.append(
            tr(
                N_(
                    "抽查 {k}/{n} 个账号（随机种子 {seed}）：合格 {ok} 个，不合格 {bad} 个，"
                    "无法评估 {check} 个。"
                )
            ).format(
                k=len(verdicts),
                n=len(report.inspection.candidates),
                seed=report.inspection.seed,
                ok=sum(1 for v in verdicts if v.outcome == PASS),
                bad=sum(1 for v in verdicts if v.outcome == FAIL),
                check=sum(1 for v in verdicts if v.outcome == UNASSESSABLE),
            )
        )
    return lines
