"""Documents for the record: the printable 发布审核单 of one review (.docx) and a spreadsheet
of many (.xlsx). Labels follow the reader's language; values are stored text, never markup."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from governance.vocabulary import category_label
from handlers.render import platform_label, when
from handlers.review_notices import EVENT_LABELS, decision_label, review_status
from models.reviews import ReviewRecord


def review_form_docx(record: ReviewRecord, tz: ZoneInfo) -> bytes:
    """One page an inspector can read: account, title, versions and who decided what, when."""
    review = record.review
    doc = Document()
    style = doc.styles["Normal"]
    style.font.size = Pt(11)  # type: ignore[attr-defined]
    doc.add_heading(_("政务新媒体发布审核单"), level=1)
    info = doc.add_table(rows=0, cols=2)
    info.style = "Table Grid"
    for label, value in (
        (_("审核编号"), review.number),
        (_("标题"), review.title),
        (_("发布账号"), f"{record.account_name}（{platform_label(record.account_platform)}）"),
        (_("主办单位"), record.unit_name),
        (_("提交人"), record.submitter),
        (_("提交时间"), when(review.created_at, tz)),
        (_("计划发布时间"), when(review.planned_at, tz) if review.planned_at else "—"),
        (_("审核结论"), review_status(review.status)),
        (_("结论时间"), when(review.decided_at, tz)),
        (_("发布情况"), _link(record, tz)),
    ):
        row = info.add_row().cells
        row[0].text, row[1].text = label, value
    doc.add_heading(_("稿件版本"), level=2)
    versions = doc.add_table(rows=1, cols=3)
    versions.style = "Table Grid"
    head = versions.rows[0].cells
    head[0].text, head[1].text, head[2].text = _("版本"), _("提交时间"), _("自动预检")
    for v in record.versions:
        cells = versions.add_row().cells
        cells[0].text = _("第 {n} 版").format(n=v.number)
        cells[1].text = when(v.created_at, tz)
        found = "；".join(
            f"{category_label(f['category'], _)}：{f['text']}" for f in v.findings[:10]
        )
        cells[2].text = found or _("未发现问题")
    doc.add_heading(_("审核经过（谁审核谁负责）"), level=2)
    table = doc.add_table(rows=1, cols=6)
    table.style = "Table Grid"
    head = table.rows[0].cells
    for cell, label in zip(
        head, (_("环节"), _("版本"), _("审核人"), _("结论"), _("意见"), _("时间")), strict=True
    ):
        cell.text = label
    for line in record.decisions:
        d = line.decision
        who = line.name + (
            _("（代 {who}）").format(who=line.on_behalf_of) if line.on_behalf_of else ""
        )
        cells = table.add_row().cells
        cells[0].text = d.stage_name
        cells[1].text = str(d.draft_version)
        cells[2].text = who
        cells[3].text = decision_label(d.decision)
        cells[4].text = d.comment or ""
        cells[5].text = when(d.at, tz)
    if record.events:
        doc.add_heading(_("其他记录"), level=2)
        for at, action, who_name in record.events:
            label = EVENT_LABELS.get(action)
            text = _(label) if label else action
            doc.add_paragraph(f"{when(at, tz)}  {text}" + (f"  {who_name}" if who_name else ""))
    doc.add_paragraph("")
    doc.add_paragraph(_("审核人签字：____________    日期：____________"))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _link(record: ReviewRecord, tz: ZoneInfo) -> str:
    review = record.review
    if review.published_at is None:
        return _("未匹配到发布内容")
    return f"{when(review.published_at, tz)} {review.published_link or ''}".strip()


def reviews_xlsx(records: list[ReviewRecord], tz: ZoneInfo) -> bytes:
    """Every review of a period, one row each, with each stage's approver and time."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("审核记录")
    header = [
        _("审核编号"),
        _("标题"),
        _("发布账号"),
        _("主办单位"),
        _("提交人"),
        _("提交时间"),
        _("版本数"),
        _("审核结论"),
        _("结论时间"),
        _("审核经过"),
        _("发布情况"),
    ]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for record in records:
        review = record.review
        steps = "；".join(
            f"{line.decision.stage_name} {line.name}"
            + (_("（代 {who}）").format(who=line.on_behalf_of) if line.on_behalf_of else "")
            + f" {decision_label(line.decision.decision)} {when(line.decision.at, tz)}"
            for line in record.decisions
        )
        sheet.append(
            [
                review.number,
                review.title,
                record.account_name,
                record.unit_name,
                record.submitter,
                when(review.created_at, tz),
                len(record.versions),
                review_status(review.status),
                when(review.decided_at, tz) if review.decided_at else "",
                steps,
                _link(record, tz),
            ]
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:  # people's text stays text: "=..." must never become a formula
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for column, width in zip(
        "ABCDEFGHIJK", (16, 30, 20, 16, 10, 17, 8, 10, 17, 60, 30), strict=True
    ):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
