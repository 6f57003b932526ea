"""The report workbook: figures in, .xlsx bytes out, no I/O of its own.

Sheets: 概况 (summary), 账号 (one row per account), 单位 (one row per unit, ranked), 问题明细
(every distinct problem, with its post's link), 网站 (government websites, when there are any:
:mod:`documents.websitesheet`), 转载任务 (repost tasks, when the period has any:
:mod:`documents.repostsheet`), 抽查 (the inspection, when there is one, laid out
to attach to a 通报) and 图表 (the charts, when given). Every figure comes from the one model of
the period (:class:`governance.reporting.Report`): a total in 概况 is the sum of the detail rows.
Text never becomes a formula (see ledgerbook._put) and personal data arrives masked.

Every sheet prints on A4 landscape, fitted to the page width, with its header rows repeated on
each page, frozen panes, column widths measured for Chinese text, and the report's title and
period in the page header and footer.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from documents.ledgerbook import Cell, Translate, _header, _identity, _put, _to_bytes
from documents.reporttext import (
    basis_text,
    explanation,
    fault_label,
    outcome_label,
    reason_text,
)
from documents.repostsheet import SHEET_REPOSTS, fill_reposts
from documents.websitesheet import SHEET_WEBSITES, fill_websites
from governance.i18n import N_
from governance.reporting import (
    FAIL,
    PASS,
    UNASSESSABLE,
    VERDICT_LABELS,
    AccountLine,
    Report,
)
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
REPORT_TITLE = N_("政务新媒体监测报告")
YES, NO = N_("是"), N_("否")
PASSED, FAILED = N_("合格"), N_("不合格")
PLAN_TOO_SHORT = N_("观察期不足")
FEED_OK = N_("正常")
PAGE_OF = N_("第 &P 页，共 &N 页")
MAX_WIDTH = 48
WRAP_FROM = 30


def text_width(value: object) -> int:
    """Columns a value needs: East Asian wide characters take two."""
    text = str(value) if value is not None else ""
    longest = max(text.split("\n"), key=len, default="")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in longest)


def _fit(sheet: Worksheet, *, first: int = 1, minimum: int = 6) -> None:
    """Column widths from the content (Chinese counted double), long text wrapped."""
    widths: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=first):
        for cell in row:
            if cell.value is None:
                continue
            widths[cell.column] = max(widths.get(cell.column, minimum), text_width(cell.value))
    for column, width in widths.items():
        shown = min(width + 2, MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(column)].width = shown
        if width + 2 > WRAP_FROM:
            for (cell,) in sheet.iter_rows(min_row=first, min_col=column, max_col=column):
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _print_ready(
    sheet: Worksheet, *, title: str, period: str, tr: Translate, header_row: int = 1
) -> None:
    """A4 landscape, one page wide, header rows on every page, title and period on each."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    if sheet.sheet_properties.pageSetUpPr is None:
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties()
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    if header_row:
        sheet.print_title_rows = f"{header_row}:{header_row}"
    header, footer = sheet.oddHeader, sheet.oddFooter
    assert header is not None and footer is not None  # openpyxl makes both with the sheet
    header.center.text = f"{title}（{sheet.title}）"
    header.center.size = 11
    footer.left.text = period
    footer.right.text = tr(PAGE_OF)


def _rows(sheet: Worksheet, rows: Sequence[Sequence[Cell | float]], first: int = 2) -> None:
    for r, values in enumerate(rows, start=first):
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value)  # type: ignore[arg-type]


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
    title = tr(REPORT_TITLE)
    period = tr(N_("统计时段：{period}")).format(period=report.period.label)
    _summary(summary, report, tz, tr)
    _print_ready(summary, title=title, period=period, tr=tr, header_row=0)
    sheets = [
        (SHEET_ACCOUNTS, _accounts, 1),
        (SHEET_UNITS, _units, 1),
        (SHEET_FINDINGS, _findings, 1),
    ]
    for name, fill, header_row in sheets:
        sheet = book.create_sheet(tr(name))
        fill(sheet, report, tz, tr)
        _print_ready(sheet, title=title, period=period, tr=tr, header_row=header_row)
    if report.websites:
        sheet = book.create_sheet(tr(SHEET_WEBSITES))
        fill_websites(sheet, report.websites, tr)
        _fit(sheet)
        _print_ready(sheet, title=title, period=period, tr=tr, header_row=1)
    if report.reposts:
        sheet = book.create_sheet(tr(SHEET_REPOSTS))
        fill_reposts(sheet, report, tz, tr)
        _fit(sheet)
        _print_ready(sheet, title=title, period=period, tr=tr)
    if report.inspection is not None:
        sheet = book.create_sheet(tr(SHEET_INSPECTION))
        head = _inspection(sheet, report, tz, tr)
        _print_ready(sheet, title=title, period=period, tr=tr, header_row=head)
    if charts:
        sheet = book.create_sheet(tr(SHEET_CHARTS))
        row = 1
        for chart_title, png in charts:
            _put(sheet, row, 1, chart_title)
            sheet.cell(row=row, column=1).font = Font(bold=True)
            image = Image(io.BytesIO(png))
            scale = min(1.0, 900 / image.width)  # fits the landscape page's width
            image.width, image.height = int(image.width * scale), int(image.height * scale)
            image.anchor = f"A{row + 1}"
            sheet.add_image(image)
            row += int(image.height / 20) + 3
        _print_ready(sheet, title=title, period=period, tr=tr, header_row=0)
    return _to_bytes(book)


def summary_rows(report: Report, tz: ZoneInfo, tr: Translate = _identity) -> list[tuple[str, Cell]]:
    """概况: every figure is a count over the detail sheets (the test holds them to it)."""
    rows: list[tuple[str, Cell]] = [
        (tr(REPORT_TITLE), None),
        (tr(N_("统计时段")), report.period.label),
        (tr(N_("范围")), report.scope),
        (tr(N_("生成时间")), report.generated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")),
        (tr(N_("账号数")), len(report.accounts)),
        (tr(N_("合格账号")), report.passed),
        (tr(N_("不合格账号")), report.failed),
        (tr(N_("无法评估账号")), report.unassessable),
        (tr(N_("期内发布数")), sum(line.posts for line in report.accounts)),
        (tr(N_("问题数")), len(report.findings)),
        (tr(N_("其中单项否决问题")), report.vetoes),
    ]
    rows += [(tr(STATE_LABELS[state]), report.states.get(state, 0)) for state in STATE_LABELS]
    rows.append(
        (
            tr(N_("说明")),
            tr(
                N_(
                    "得分按评分规则逐项扣分，任一单项否决即为不合格；评分不使用点赞、阅读、转发等数据。"
                    "订阅源读取失败的账号为“无法评估”，单独计数，不评分，也不作为不更新的依据；"
                    "未更新天数只从证据起算（最近一条发布、登记日期或台账开设日期），"
                    "订阅源历史够不到的时段注明“覆盖不足”。问题数按账号去重：同一问题出现在多篇文章中只计一次。"
                )
            ),
        )
    )
    return rows


def _summary(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> None:
    rows = summary_rows(report, tz, tr)
    _rows(sheet, rows, first=1)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 90
    for r in range(1, len(rows) + 1):
        sheet.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")


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
        tr(N_("天数依据")),
        tr(N_("更新状态")),
        tr(N_("低于承诺频率")),
        tr(N_("监测源")),
        *(category_label(c, tr) for c in CONTENT_CATEGORIES),
        tr(N_("问题合计")),
    ]
    if report.show_cases:
        headers.append(tr(N_("整改")))
    if report.show_reviews:
        headers += [tr(N_("送审稿")), tr(N_("审核通过")), tr(N_("未经审核发布"))]
    return [*headers, tr(N_("得分")), tr(N_("结论")), tr(N_("扣分、否决及说明"))]


def account_row(
    line: AccountLine, report: Report, tz: ZoneInfo, tr: Translate
) -> list[Cell | float]:
    a = line.account
    if not line.reading.readable:
        feed = fault_label(line.reading.fault or "", line.reading.status, tr)
    else:
        feed = tr(FEED_OK)
    if not line.reading.readable or line.silence is None or line.silence.days is None:
        plan = "—"
    elif not line.plan_judged:
        plan = tr(PLAN_TOO_SHORT)
    else:
        plan = tr(YES) if line.below_plan else tr(NO)
    row: list[Cell | float] = [
        a.id,
        a.unit,
        a.name,
        platform_label(a.platform, tr),
        status_label(a.status, tr),
        line.posts,
        line.longest_gap_days,
        line.days_dormant,
        basis_text(line, tz, tr),
        tr(STATE_LABELS[line.state]),
        plan,
        feed,
        *(line.problems.get(c, 0) for c in CONTENT_CATEGORIES),
        sum(line.problems.values()),
    ]
    if report.show_cases:
        row.append(a.cases or 0)
    if report.show_reviews:
        row += [a.reviews or 0, a.approved, a.unreviewed]
    row += [
        line.score.points if line.scored else None,
        outcome_label(line.outcome, tr),
        explanation(line, tz, tr),
    ]
    return row


def _accounts(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> None:
    _header(sheet, account_headers(report, tr))
    _rows(sheet, [account_row(line, report, tz, tr) for line in report.accounts])
    _fit(sheet)
    sheet.freeze_panes = "D2"  # unit and account name stay beside their deductions


def unit_headers(tr: Translate = _identity) -> list[str]:
    return [
        tr(N_("排名")),
        tr(N_("单位")),
        tr(N_("账号数")),
        tr(N_("合格")),
        tr(N_("不合格")),
        tr(N_("无法评估")),
        tr(N_("期内发布数")),
        tr(N_("问题数")),
        tr(N_("不更新账号数")),
        tr(N_("平均分（已评分账号）")),
    ]


def _units(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> None:
    _header(sheet, unit_headers(tr))
    _rows(
        sheet,
        [
            (
                u.rank.rank if u.rank.accounts else None,
                u.unit,
                u.accounts,
                u.passed,
                u.failed,
                u.unassessable,
                u.posts,
                u.problems,
                u.dormant,
                u.rank.average if u.rank.accounts else None,
            )
            for u in report.units
        ],
    )
    _fit(sheet)
    sheet.freeze_panes = "C2"


def finding_headers(tr: Translate = _identity) -> list[str]:
    return [
        tr(N_("发布时间")),
        tr(N_("发现时间")),
        tr(N_("单位")),
        tr(N_("账号名称")),
        tr(N_("类别")),
        tr(N_("严重程度")),
        tr(N_("问题文字")),
        tr(N_("上下文")),
        tr(N_("出现次数")),
        tr(N_("文章标题")),
        tr(N_("链接")),
        tr(N_("处理状态")),
    ]


def _findings(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> None:
    _header(sheet, finding_headers(tr))
    link_column = 11
    for r, p in enumerate(report.findings, start=2):
        values: list[Cell] = [
            p.published_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if p.published_at else "—",
            p.found_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            p.account.unit,
            p.account.name,
            category_label(p.category, tr),
            severity_label(p.severity, tr),
            p.text,
            p.excerpt,
            p.occurrences,
            p.title,
            p.link,
            finding_status_label(p.status, tr),
        ]
        for c, value in enumerate(values, start=1):
            _put(sheet, r, c, value)
        if p.link and p.link.startswith(("http://", "https://")):
            cell = sheet.cell(row=r, column=link_column)
            cell.hyperlink = p.link
            cell.font = Font(color="0563C1", underline="single")
    _fit(sheet)
    sheet.freeze_panes = "E2"


def _inspection(sheet: Worksheet, report: Report, tz: ZoneInfo, tr: Translate) -> int:
    """The inspection sheet; returns the row of its table's header (repeated when printed)."""
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
        (tr(VERDICT_LABELS[PASS]), sum(1 for v in verdicts if v.outcome == PASS)),
        (tr(VERDICT_LABELS[FAIL]), sum(1 for v in verdicts if v.outcome == FAIL)),
        (tr(VERDICT_LABELS[UNASSESSABLE]), sum(1 for v in verdicts if v.outcome == UNASSESSABLE)),
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
            outcome_label(verdict.outcome, tr),
            "；".join(reason_text(m, p, tr) for m, p in verdict.reasons),
            note,
        ]
        for c, value in enumerate(values, start=1):
            _put(sheet, first + i, c, value)
    _fit(sheet, first=first)
    sheet.column_dimensions["A"].width = max(sheet.column_dimensions["A"].width or 0, 14)
    sheet.freeze_panes = f"A{first + 1}"
    return first
