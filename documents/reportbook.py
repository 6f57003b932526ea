"""The report workbook: figures in, .xlsx bytes out, no I/O of its own.

Sheets: 概况 (summary), 账号 (one row per account), 单位 (one row per unit, ranked), 问题明细
(every finding, with its link), 抽查 (the inspection, when there is one, laid out to attach to a
通报) and 图表 (the charts, when given). Text never becomes a formula (see ledgerbook._put).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from documents.ledgerbook import Cell, Translate, _header, _identity, _put, _to_bytes
from governance.activity import DormancyState
from governance.i18n import N_
from governance.reporting import VERDICT_LABELS, Report
from governance.scoring import Deduction
from governance.vocabulary import (
    ACTIVITY_LABELS,
    CONTENT_CATEGORIES,
    category_label,
    finding_status_label,
    platform_label,
    severity_label,
    status_label,
)

STATE_LABELS = ACTIVITY_LABELS
SHEET_SUMMARY = N_("概况")
SHEET_ACCOUNTS = N_("账号")
SHEET_UNITS = N_("单位")
SHEET_FINDINGS = N_("问题明细")
SHEET_INSPECTION = N_("抽查")
SHEET_CHARTS = N_("图表")
YES, NO = N_("是"), N_("否")
PASSED, FAILED = N_("合格"), N_("不合格")


def _label(labels: Mapping[str, str], value: str, tr: Translate) -> str:
    label = labels.get(value)
    return tr(label) if label else value


def reason_text(message: str, params: Mapping[str, object], tr: Translate = _identity) -> str:
    """A deduction's or verdict's reason in the reader's language."""
    shown = {
        k: category_label(v, tr) if k == "category" and isinstance(v, str) else v
        for k, v in params.items()
    }
    return tr(message).format(**shown)


def _deductions(items: Sequence[Deduction], tr: Translate) -> str:
    return "；".join(
        f"{reason_text(d.reason, d.params, tr)} −{d.points}"
        if d.points
        else reason_text(d.reason, d.params, tr)
        for d in items
    )


def _rows(sheet: Worksheet, rows: Sequence[Sequence[Cell | float]], first: int = 2) -> None:
    for r, values in enumerate(rows, start=first):
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value)  # type: ignore[arg-type]


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def report_workbook(
    report: Report,
    *,
    tz: ZoneInfo,
    tr: Translate = _identity,
    charts: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """The whole report as one workbook; ``charts`` are (title, PNG bytes) to embed."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = tr(SHEET_SUMMARY)
    _summary(summary, report, tz, tr)
    _accounts(book.create_sheet(tr(SHEET_ACCOUNTS)), report, tr)
    _units(book.create_sheet(tr(SHEET_UNITS)), report, tr)
    _findings(book.create_sheet(tr(SHEET_FINDINGS)), report, tz, tr)
    if report.inspection is not None:
        _inspection(book.create_sheet(tr(SHEET_INSPECTION)), report, tz, tr)
    if charts:
        sheet = book.create_sheet(tr(SHEET_CHARTS))
        row = 1
        for title, png in charts:
            _put(sheet, row, 1, title)
            sheet.cell(row=row, column=1).font = Font(bold=True)
            image = Image(io.BytesIO(png))
            image.anchor = f"A{row + 1}"
            sheet.add_image(image)
            row += int(image.height / 20) + 3
    return _to_bytes(book)


def _summary(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> None:
    lines = len(report.accounts)
    rows: list[tuple[str, Cell]] = [
        (tr(N_("政务新媒体监测报告")), None),
        (tr(N_("统计时段")), report.period.label),
        (tr(N_("范围")), report.scope),
        (tr(N_("生成时间")), report.generated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")),
        (tr(N_("账号数")), lines),
        (tr(N_("期内发布数")), sum(line.posts for line in report.accounts)),
        (tr(N_("问题数")), len(report.findings)),
        (tr(N_("合格账号")), report.passed),
        (tr(N_("不合格账号")), lines - report.passed),
    ]
    rows += [(tr(STATE_LABELS[state]), report.states.get(state, 0)) for state in STATE_LABELS]
    rows.append(
        (
            tr(N_("说明")),
            tr(
                N_(
                    "得分按评分规则逐项扣分，任一单项否决即为不合格；"
                    "评分不使用点赞、阅读、转发等数据。监测源异常属于监测故障，不作为不更新的依据。"
                )
            ),
        )
    )
    _rows(sheet, rows, first=1)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    _widths(sheet, (22, 60))
    sheet.cell(row=len(rows), column=2).alignment = Alignment(wrap_text=True)


def account_headers(report: Report, tr: Translate = _identity) -> list[str]:
    headers = [
        tr(N_("编号")),
        tr(N_("单位")),
        tr(N_("账号名称")),
        tr(N_("平台")),
        tr(N_("状态")),
        tr(N_("期内发布数")),
        tr(N_("最长间隔（天）")),
        tr(N_("未更新天数")),
        tr(N_("更新状态")),
        tr(N_("低于承诺频率")),
        tr(N_("监测源异常")),
        *(category_label(c, tr) for c in CONTENT_CATEGORIES),
        tr(N_("问题合计")),
    ]
    if report.show_cases:
        headers.append(tr(N_("整改")))
    if report.show_reviews:
        headers += [tr(N_("送审稿")), tr(N_("审核通过")), tr(N_("未经审核发布"))]
    return [*headers, tr(N_("得分")), tr(N_("结论")), tr(N_("扣分及否决原因"))]


def _accounts(sheet: Worksheet, report: Report, tr: Translate) -> None:
    _header(sheet, account_headers(report, tr))
    rows = []
    for line in report.accounts:
        a = line.account
        row: list[Cell | float] = [
            a.id,
            a.unit,
            a.name,
            platform_label(a.platform, tr),
            status_label(a.status, tr),
            line.posts,
            line.longest_gap_days,
            None if line.feed_broken else line.days_dormant,
            tr(STATE_LABELS[line.state]),
            tr(YES) if line.below_plan else tr(NO),
            tr(YES) if line.feed_broken else tr(NO),
            *(line.problems.get(c, 0) for c in CONTENT_CATEGORIES),
            sum(line.problems.values()),
        ]
        if report.show_cases:
            row.append(a.cases or 0)
        if report.show_reviews:
            row += [a.reviews or 0, a.approved, a.unreviewed]
        row += [
            line.score.points,
            tr(PASSED) if line.score.passed else tr(FAILED),
            _deductions([*line.score.vetoes, *line.score.deductions], tr),
        ]
        rows.append(row)
    _rows(sheet, rows)
    _widths(sheet, (6, 18, 20, 12, 8, 10, 12, 10, 14, 12, 10))


def _units(sheet: Worksheet, report: Report, tr: Translate) -> None:
    _header(
        sheet,
        [
            tr(N_("排名")),
            tr(N_("单位")),
            tr(N_("账号数")),
            tr(N_("期内发布数")),
            tr(N_("问题数")),
            tr(N_("不更新账号数")),
            tr(N_("平均分")),
            tr(N_("不合格账号数")),
        ],
    )
    _rows(
        sheet,
        [
            (u.rank.rank, u.unit, u.accounts, u.posts, u.problems, u.dormant, *u.average_failed)
            for u in report.units
        ],
    )
    _widths(sheet, (6, 22, 8, 12, 8, 14, 8, 14))


def _findings(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> None:
    _header(
        sheet,
        [
            tr(N_("发现时间")),
            tr(N_("单位")),
            tr(N_("账号名称")),
            tr(N_("类别")),
            tr(N_("严重程度")),
            tr(N_("问题文字")),
            tr(N_("上下文")),
            tr(N_("文章标题")),
            tr(N_("链接")),
            tr(N_("处理状态")),
        ],
    )
    for r, (account, f) in enumerate(report.findings, start=2):
        values: list[Cell] = [
            f.found_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            account.unit,
            account.name,
            category_label(f.category, tr),
            severity_label(f.severity, tr),
            f.text,
            f.excerpt,
            f.title,
            f.link,
            finding_status_label(f.status, tr),
        ]
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value)
        if f.link and f.link.startswith(("http://", "https://")):
            cell = sheet.cell(row=r, column=9)
            cell.hyperlink = f.link
            cell.font = Font(color="0563C1", underline="single")
    _widths(sheet, (17, 18, 20, 12, 10, 20, 50, 30, 40, 10))


def _inspection(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> None:
    inspection = report.inspection
    assert inspection is not None
    verdicts = inspection.verdicts
    head: list[tuple[str, Cell]] = [
        (tr(N_("政务新媒体抽查结果")), None),
        (tr(N_("检查时间")), inspection.checked_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")),
        (tr(N_("范围")), report.scope),
        (tr(N_("抽样比例")), f"{inspection.ratio:.0%}"),
        (tr(N_("随机种子")), inspection.seed),
        (tr(N_("候选账号数")), len(inspection.candidates)),
        (tr(N_("抽查账号数")), len(verdicts)),
        (tr(N_("合格")), sum(1 for v in verdicts if v.outcome == "pass")),
        (tr(N_("不合格")), sum(1 for v in verdicts if v.outcome == "fail")),
        (tr(N_("需人工核查")), sum(1 for v in verdicts if v.outcome == "unverified")),
    ]
    _rows(sheet, head, first=1)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    first = len(head) + 2
    headers = [
        tr(N_("序号")),
        tr(N_("单位")),
        tr(N_("账号名称")),
        tr(N_("平台")),
        tr(N_("最近更新")),
        tr(N_("结论")),
        tr(N_("原因")),
        tr(N_("备注")),
    ]
    for c, title in enumerate(headers, start=1):
        _put(sheet, first, c, title)
        sheet.cell(row=first, column=c).font = Font(bold=True)
    note = tr(N_("互动回应情况需人工核查"))
    for i, verdict in enumerate(verdicts, start=1):
        a = verdict.account.account
        last = max((t for t in a.post_times if t <= inspection.checked_at), default=None)
        values: list[Cell] = [
            i,
            a.unit,
            a.name,
            platform_label(a.platform, tr),
            last.astimezone(tz).strftime("%Y-%m-%d") if last else "—",
            _label(VERDICT_LABELS, verdict.outcome, tr),
            "；".join(reason_text(m, p, tr) for m, p in verdict.reasons),
            note,
        ]
        for c, value in enumerate(values, start=1):
            _put(sheet, first + i, c, value)
    _widths(sheet, (14, 20, 20, 12, 12, 12, 50, 22))


def summary_lines(report: Report, tr: Translate = _identity, *, top: int = 3) -> list[str]:
    """The short summary for the chat and the console: plain text, the caller escapes it."""
    n = len(report.accounts)
    vetoes = sum(1 for _a, f in report.findings if f.severity == "veto")
    lines = [
        tr(N_("时段：{period}")).format(period=report.period.label),
        tr(N_("范围：{scope}")).format(scope=report.scope),
        tr(N_("账号 {n} 个，期内发布 {posts} 条；合格 {passed} 个，不合格 {failed} 个。")).format(
            n=n,
            posts=sum(line.posts for line in report.accounts),
            passed=report.passed,
            failed=n - report.passed,
        ),
        tr(N_("不更新 {dormant} 个，更新预警 {warning} 个，监测源异常 {unknown} 个。")).format(
            dormant=report.states.get(DormancyState.DORMANT, 0)
            + report.states.get(DormancyState.CLOSURE_CANDIDATE, 0),
            warning=report.states.get(DormancyState.WARNING, 0),
            unknown=report.states.get(DormancyState.UNKNOWN, 0),
        ),
        tr(N_("发现问题 {n} 处，其中单项否决 {veto} 处。")).format(
            n=len(report.findings), veto=vetoes
        ),
    ]
    if len(report.units) > 1:
        ranking = "；".join(
            tr(N_("{rank}. {unit} {score} 分")).format(
                rank=u.rank.rank, unit=u.unit, score=u.rank.average
            )
            for u in report.units[:top]
        )
        lines.append(tr(N_("单位排名：{ranking}")).format(ranking=ranking))
    if report.inspection is not None:
        verdicts = report.inspection.verdicts
        lines.append(
            tr(
                N_(
                    "抽查 {k}/{n} 个账号（随机种子 {seed}）：合格 {ok} 个，不合格 {bad} 个，"
                    "需人工核查 {check} 个。"
                )
            ).format(
                k=len(verdicts),
                n=len(report.inspection.candidates),
                seed=report.inspection.seed,
                ok=sum(1 for v in verdicts if v.outcome == "pass"),
                bad=sum(1 for v in verdicts if v.outcome == "fail"),
                check=sum(1 for v in verdicts if v.outcome == "unverified"),
            )
        )
    return lines
