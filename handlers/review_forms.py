"""Documents for the record: the printable 发布审核单 of one review (.docx) and a spreadsheet
of many (.xlsx). Labels follow the reader's language; values are stored text, never markup."""

from __future__ import annotations

import io
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from lxml import etree
from openpyxl import Workbook
from openpyxl.styles import Font

from governance.drafttext import Place, unread_reason
from governance.quality.pii import mask_pii
from governance.vocabulary import category_label
from handlers.render import platform_label, when
from handlers.review_notices import EVENT_LABELS, decision_label, review_status
from models.reviews import ReviewRecord

BODY_FONT = "仿宋_GB2312"
TITLE_FONT = "方正小标宋简体"
HEADING_FONT = "黑体"
#: What Word/LibreOffice use where the 公文 fonts are not installed (declared in the font table).
FALLBACKS = {BODY_FONT: "SimSun", TITLE_FONT: "SimSun", HEADING_FONT: "SimHei"}
LATIN_FONT = "Times New Roman"
DRAFT_MAX_CHARS = 1500
DEFAULT_STAGES = ("初审", "复审", "终审")
LABEL_WIDTH, VALUE_WIDTH = Cm(3.2), Cm(12.4)


def _fonts(run_properties: Any, east_asian: str) -> None:
    """Latin text in Times New Roman, Chinese in ``east_asian`` (w:eastAsia), as 公文 do."""
    fonts = run_properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        run_properties.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attribute), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


def _style(doc: Any, name: str, east_asian: str, size: float, *, bold: bool = False) -> None:
    style = doc.styles[name]
    style.font.name = LATIN_FONT
    style.font.size = Pt(size)
    style.font.bold = bold
    style.font.color.rgb = RGBColor(0, 0, 0)
    _fonts(style.element.get_or_add_rPr(), east_asian)


def _declare_fallbacks(doc: Any) -> None:
    """Font-table entries naming a fallback (w:altName) and the GB 2312 charset for each font,
    so a computer without the 公文 fonts shows 宋体/黑体 instead of a Latin font."""
    font_part = next(
        (rel.target_part for rel in doc.part.rels.values() if rel.reltype.endswith("/fontTable")),
        None,
    )
    if font_part is None:
        return
    root = parse_xml(font_part.blob)
    for name, alternative in FALLBACKS.items():
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", alternative), ("w:charset", "86"), ("w:family", "modern")):
            child = OxmlElement(tag)
            child.set(qn("w:val"), value)
            font.append(child)
        root.append(font)
    font_part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _width(table: Any, widths: tuple[Any, ...]) -> None:
    table.autofit = False
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _heading(doc: Any, text: str) -> None:
    paragraph = doc.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = True
    run.font.size = Pt(14)
    _fonts(run._r.get_or_add_rPr(), HEADING_FONT)
    paragraph.paragraph_format.space_before = Pt(10)
    paragraph.paragraph_format.space_after = Pt(4)


def _stages(record: ReviewRecord) -> list[str]:
    """The route's stages (one signature row each), else the stages decided, else 三审."""
    names = [str(stage.get("name")) for stage in record.review.route if stage.get("name")]
    if not names:
        names = list(dict.fromkeys(line.decision.stage_name for line in record.decisions))
    return names or [_(n) for n in DEFAULT_STAGES]


def review_form_docx(record: ReviewRecord, tz: ZoneInfo) -> bytes:
    """The 发布审核单 as an office prints and signs it: A4, 公文 fonts (仿宋_GB2312 body, 小标宋
    title, declared for East Asian text, SimSun as the fallback), the draft text, the record of
    decisions, one signature and date row per stage and the 单位盖章 area."""
    review = record.review
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(30), Mm(25)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _style(doc, "Normal", BODY_FONT, 12)
    _style(doc, "Table Grid", BODY_FONT, 12)
    _declare_fallbacks(doc)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(_("政务新媒体发布审核单"))
    run.font.size = Pt(22)
    _fonts(run._r.get_or_add_rPr(), TITLE_FONT)
    info = doc.add_table(rows=0, cols=2)
    info.style = "Table Grid"
    for label, value in (
        (_("审核编号"), review.number),
        (_("标题"), mask_pii(review.title)),
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
    _width(info, (LABEL_WIDTH, VALUE_WIDTH))
    _heading(doc, _("稿件正文"))
    latest = record.versions[-1] if record.versions else None
    body = mask_pii(latest.body) if latest is not None else ""
    if latest is not None and latest.has_media:
        body += "\n" + _("（另附图片或视频，见系统中的原始消息）")
    if len(body) > DRAFT_MAX_CHARS:
        body = body[:DRAFT_MAX_CHARS] + "……"
        note = _("（正文较长，此处仅列前 {n} 字；全文见系统中的第 {v} 版）").format(
            n=DRAFT_MAX_CHARS, v=latest.number if latest else 1
        )
        body += "\n" + note
    draft = doc.add_table(rows=1, cols=1)
    draft.style = "Table Grid"
    draft.rows[0].cells[0].text = body or _("（无文字内容）")
    _heading(doc, _("稿件版本与自动预检"))
    versions = doc.add_table(rows=1, cols=3)
    versions.style = "Table Grid"
    head = versions.rows[0].cells
    head[0].text, head[1].text, head[2].text = _("版本"), _("提交时间"), _("自动预检")
    for v in record.versions:
        cells = versions.add_row().cells
        cells[0].text = _("第 {n} 版").format(n=v.number)
        cells[1].text = when(v.created_at, tz)
        found = "；".join(form_finding(f) for f in v.findings[:10])
        cells[2].text = found or _("未发现问题")
    _width(versions, (Cm(2.2), Cm(3.6), Cm(9.8)))
    _heading(doc, _("审核经过（谁审核谁负责）"))
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    head = table.rows[0].cells
    for cell, label in zip(
        head, (_("环节"), _("审核人"), _("结论"), _("意见"), _("时间")), strict=True
    ):
        cell.text = label
    for line in record.decisions:
        d = line.decision
        who = line.name + (
            _("（代 {who}）").format(who=line.on_behalf_of) if line.on_behalf_of else ""
        )
        cells = table.add_row().cells
        cells[0].text = f"{d.stage_name}（{_('第 {n} 版').format(n=d.draft_version)}）"
        cells[1].text = who
        cells[2].text = decision_label(d.decision)
        cells[3].text = d.comment or ""
        cells[4].text = when(d.at, tz)
    _width(table, (Cm(2.8), Cm(2.6), Cm(2.0), Cm(4.8), Cm(3.4)))
    if record.events:
        _heading(doc, _("其他记录"))
        for at, action, who_name in record.events:
            event_label = EVENT_LABELS.get(action)
            event = _(event_label) if event_label else action
            doc.add_paragraph(f"{when(at, tz)}  {event}" + (f"  {who_name}" if who_name else ""))
    _heading(doc, _("审核签字"))
    signatures = doc.add_table(rows=1, cols=3)
    signatures.style = "Table Grid"
    head = signatures.rows[0].cells
    head[0].text, head[1].text, head[2].text = _("审核环节"), _("审核人签字"), _("日期")
    for stage in _stages(record):
        cells = signatures.add_row().cells
        cells[0].text = stage
        cells[2].text = _("    年    月    日")
    for row in signatures.rows[1:]:
        row.height = Cm(1.4)
    _width(signatures, (LABEL_WIDTH, Cm(7.4), Cm(5.0)))
    seal = doc.add_paragraph()
    seal.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    seal.paragraph_format.space_before = Pt(24)
    seal.add_run(_("单位（盖章）：") + "\u3000" * 8)
    stamp_date = doc.add_paragraph(_("    年    月    日"))
    stamp_date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    stamp_date.paragraph_format.space_before = Pt(36)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def form_finding(raw: dict[str, Any]) -> str:
    """One stored finding as the form prints it: category, text (masked), place in the file."""
    label = category_label(str(raw["category"]), _)
    place = Place.from_dict(raw.get("where"))
    if raw["category"] == "unreadable":
        name = place.file if place else ""
        return f"{label}：{name} {unread_reason(str(raw.get('rule')), raw.get('suggestion'), _)}"
    where = _("（位置：{place}）").format(place=place.label(_)) if place else ""
    return f"{label}：{mask_pii(str(raw['text']))}{mask_pii(where)}"


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
                mask_pii(review.title),
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
