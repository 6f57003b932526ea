"""Ledger files: .xlsx and .csv in, .xlsx out; bytes in and bytes out, no I/O of its own.

Reading is defensive: the size is capped before parsing, an .xlsx whose unpacked size is out of
proportion (a zip bomb) is refused, CSV is read as UTF-8 (with or without BOM), UTF-16 (Excel's
"Unicode text") or GBK/GB18030 (what Excel saves on Chinese Windows), and anything else gets a
clear message. Writing never lets a cell become a formula: text that starts with ``=`` stays text
(no spreadsheet injection), so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from governance.errors import InvalidInput
from governance.i18n import N_
from governance.ledgertable import COLUMNS, MAX_FILE_BYTES, MAX_ROWS, SHEET_TITLE, cell_text
from governance.registry import PLATFORM_LABELS, POSTS_PER_WEEK_MAX, STATUS_LABELS
from governance.websiteledger import HEADERS as WEBSITE_HEADERS
from governance.websiteledger import SHEET_WEBSITES

Translate = Callable[[str], str]
Cell = str | int | None

MAX_UNPACKED_BYTES = 60 * 1024 * 1024
MAX_PHYSICAL_ROWS = 100_000
MAX_COLUMNS = 60
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BROKEN_XLSX = N_("无法读取该 Excel 文件，文件可能已损坏，请重新保存为 .xlsx 后再发送。")
UNSUPPORTED = N_("无法识别的文件格式：台账请用 .xlsx 或 .csv 文件。")
BAD_CSV = N_("CSV 文件格式有误（如引号不配对），请用 Excel 重新保存后再发送。")
_SUFFIXES = frozenset({"xlsx", "xlsm", "xls", "csv", "txt", "tsv"})
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
_WIDTHS = {"unit": 18, "platform": 12, "name": 20, "platform_ref": 26, "responsible": 10}
_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")


def _identity(text: str) -> str:
    return text


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerFile:
    """What was read from a ledger file, and from where: the reply names the sheet and the count."""

    rows: list[list[object]]
    sheet: str | None  # the worksheet read (None for CSV)
    sheets_skipped: tuple[str, ...] = ()  # hidden sheets left unread

    @property
    def rows_read(self) -> int:
        """Non-empty rows read, the header included."""
        return sum(1 for row in self.rows if any(cell_text(v) for v in row))


def read_table(data: bytes, filename: str = "") -> list[list[object]]:
    """The rows of the ledger sheet of an .xlsx (see :func:`read_ledger_file`), or of a .csv."""
    return read_ledger_file(data, filename).rows


def read_ledger_file(data: bytes, filename: str = "") -> LedgerFile:
    """Read a ledger: of an .xlsx the visible sheet named 台账, else the first visible sheet
    (hidden and very hidden sheets are never read); every row, whatever the file's recorded
    ``<dimension>`` says (a stale one would silently hide rows)."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(
            N_("文件过大（{size} MB），台账文件不能超过 {max} MB。"),
            size=f"{len(data) / 1024 / 1024:.1f}",
            max=MAX_FILE_BYTES // 1024 // 1024,
        )
    suffix = filename.lower().rpartition(".")[2] if "." in filename else ""
    if suffix and suffix not in _SUFFIXES:
        raise InvalidInput(UNSUPPORTED)
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE_MAGIC) or filename.lower().endswith(".xls"):
        raise InvalidInput(N_("不支持旧版 .xls 文件，请在 Excel 中“另存为” .xlsx 后再发送。"))
    if filename.lower().endswith(".xlsx"):
        raise InvalidInput(BROKEN_XLSX)
    return LedgerFile(rows=_read_csv(data), sheet=None)


def _ledger_sheet(book: Any) -> tuple[Any, tuple[str, ...]]:
    """The visible sheet named 台账, else the first visible sheet; and the hidden ones."""
    visible = [ws for ws in book.worksheets if ws.sheet_state == "visible"]
    hidden = tuple(ws.title for ws in book.worksheets if ws.sheet_state != "visible")
    if not visible:
        raise InvalidInput(N_("Excel 文件中没有可见的工作表，请取消隐藏台账工作表后再发送。"))
    named = [ws for ws in visible if ws.title.strip() == SHEET_TITLE]
    return (named or visible)[0], hidden


def _read_xlsx(data: bytes) -> LedgerFile:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise InvalidInput(N_("Excel 文件解压后过大，请删除多余的工作表或格式后再发送。"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it cannot read
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet, hidden = _ledger_sheet(book)
                sheet.reset_dimensions()  # read every row, not what <dimension> claims
                rows: list[list[object]] = []
                for physical, values in enumerate(
                    sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
                ):
                    if physical > MAX_PHYSICAL_ROWS:
                        raise InvalidInput(
                            N_("台账最多 {max} 行，当前 {n} 行，请分批导入。"),
                            max=MAX_ROWS,
                            n=f"{MAX_PHYSICAL_ROWS}+",
                        )
                    rows.append(list(values))
            finally:
                book.close()
    except InvalidInput:
        raise
    except Exception:  # openpyxl raises many kinds of errors for a damaged file
        raise InvalidInput(BROKEN_XLSX) from None
    return LedgerFile(rows=_trim(rows), sheet=sheet.title, sheets_skipped=hidden)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise InvalidInput(N_("无法识别 CSV 文件的编码，请以 UTF-8 或 GBK 编码保存后再发送。"))


def _read_csv(data: bytes) -> list[list[object]]:
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        rows: list[list[object]] = [
            list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error:
        raise InvalidInput(BAD_CSV) from None
    return _trim(rows)


def _trim(rows: list[list[object]]) -> list[list[object]]:
    """Drop trailing empty rows (formatting often reaches far below the data)."""
    while rows and all(v is None or str(v).strip() == "" for v in rows[-1]):
        rows.pop()
    return rows


# --- writing --------------------------------------------------------------------------------


def _put(sheet: Worksheet, row: int, column: int, value: Cell) -> None:
    """Write a value that stays what it is: text is never a formula, control chars dropped."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.data_type = "s"
    else:
        cell.value = value


def _header(sheet: Worksheet, headers: Sequence[str], required: Sequence[bool] = ()) -> None:
    for column, title in enumerate(headers, start=1):
        _put(sheet, 1, column, title)
        cell = sheet.cell(row=1, column=column)
        cell.font = _HEAD_FONT
        needed = required[column - 1] if column - 1 < len(required) else False
        cell.fill = _REQUIRED_FILL if needed else _HEAD_FILL
    sheet.freeze_panes = "A2"


def _to_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ledger_workbook(
    rows: Iterable[Sequence[Cell]],
    *,
    tr: Translate = _identity,
    websites: Iterable[Sequence[object]] = (),
) -> bytes:
    """The ledger: sheet 台账 (the data, with drop-downs), sheet 网站 (government websites and
    their columns, :mod:`governance.websiteledger`) and sheet 填写说明.

    With no rows it is the template; with the registry's rows it is the export. Both have the
    same layout, which is what the import reads.
    """
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET_TITLE
    _header(sheet, [c.header for c in COLUMNS], [c.required for c in COLUMNS])
    count = 0
    for count, values in enumerate(rows, start=1):
        for index, value in enumerate(values, start=1):
            _put(sheet, count + 1, index, value)
    last = max(count + 1, MAX_ROWS + 1)
    keys = [c.key for c in COLUMNS]
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = _WIDTHS.get(column.key, 16)
        if column.key in {"necessity", "plan"}:
            sheet.column_dimensions[letter].width = 40
    _validations(sheet, keys, last, tr)
    ref_column = keys.index("platform_ref") + 1
    for (cell,) in sheet.iter_rows(
        min_row=2, max_row=count + 1, min_col=ref_column, max_col=ref_column
    ):
        cell.number_format = "@"  # long numeric ids stay text in Excel
    _website_sheet(book.create_sheet(SHEET_WEBSITES), websites, tr)
    _guide(book.create_sheet(tr(N_("填写说明"))), tr)
    return _to_bytes(book)


def _website_sheet(sheet: Worksheet, rows: Iterable[Sequence[object]], tr: Translate) -> None:
    # The sheet's title is what the import looks for: it stays 网站 in every language.
    _header(sheet, [tr(label) for _key, label in WEBSITE_HEADERS], [True] * 4)
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            _put(
                sheet, r, c, value if isinstance(value, str | int) or value is None else str(value)
            )
    for index, width in enumerate((18, 22, 34, 10, 14, 40, 10, 8, 20), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def read_named_sheet(data: bytes, title: str) -> list[list[object]] | None:
    """The rows of the visible sheet ``title`` of an .xlsx ledger; ``None`` when it has none
    (a CSV, or a workbook without that sheet). Call after :func:`read_ledger_file` accepted
    the file (size, zip bomb)."""
    if not data.startswith(_ZIP_MAGIC):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                found = [
                    ws
                    for ws in book.worksheets
                    if ws.sheet_state == "visible" and ws.title.strip() == title
                ]
                if not found:
                    return None
                sheet = found[0]
                sheet.reset_dimensions()
                rows: list[list[object]] = [
                    list(values)
                    for _n, values in zip(
                        range(MAX_ROWS + 20),
                        sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True),
                        strict=False,
                    )
                ]
            finally:
                book.close()
    except Exception:
        raise InvalidInput(BROKEN_XLSX) from None
    return _trim(rows)


def _validations(sheet: Worksheet, keys: list[str], last: int, tr: Translate) -> None:
    def span(key: str) -> str:
        letter = get_column_letter(keys.index(key) + 1)
        return f"{letter}2:{letter}{last}"

    platforms = DataValidation(
        type="list",
        formula1='"' + ",".join(PLATFORM_LABELS.values()) + '"',
        allow_blank=False,
        showErrorMessage=True,
        errorTitle=tr(N_("平台")),
        error=tr(N_("请从下拉列表中选择平台。")),
    )
    platforms.add(span("platform"))
    statuses = DataValidation(
        type="list",
        formula1='"' + ",".join(STATUS_LABELS.values()) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=tr(N_("状态")),
        error=tr(N_("请从下拉列表中选择状态。")),
    )
    statuses.add(span("status"))
    per_week = DataValidation(
        type="whole",
        operator="between",
        formula1="1",
        formula2=str(POSTS_PER_WEEK_MAX),
        showErrorMessage=True,
        errorTitle=tr(N_("每周计划发布条数")),
        error=tr(N_("请填写 1 到 {max} 之间的整数。")).format(max=POSTS_PER_WEEK_MAX),
    )
    per_week.add(span("posts_per_week"))
    for validation in (platforms, statuses, per_week):
        sheet.add_data_validation(validation)


def _guide(sheet: Worksheet, tr: Translate) -> None:
    """The second sheet: each column, whether it is required, what goes in it."""
    _header(sheet, [tr(N_("列名")), tr(N_("是否必填")), tr(N_("说明"))])
    for row, column in enumerate(COLUMNS, start=2):
        _put(sheet, row, 1, column.header)
        _put(sheet, row, 2, tr(N_("必填")) if column.required else tr(N_("选填")))
        _put(sheet, row, 3, tr(column.help))
    row = len(COLUMNS) + 3
    _put(sheet, row, 1, tr(N_("可填的平台")))
    _put(sheet, row, 3, "、".join(PLATFORM_LABELS.values()))
    _put(sheet, row + 1, 1, tr(N_("可填的状态")))
    _put(sheet, row + 1, 3, "、".join(STATUS_LABELS.values()))
    notes = (
        N_("第一行是列名，请勿修改；从第二行起每行一个账号。"),
        N_("可保存为 .xlsx，或另存为 CSV（UTF-8 或 GBK 编码均可）。"),
        N_("导入前会逐行校验；全部无误才导入，也可选择只导入无误的行。"),
        N_("与系统中已登记账号完全相同的行会被跳过，因此导出的台账可原样再导入。"),
        N_("文件不超过 5 MB，最多 5000 行。"),
    )
    for offset, note in enumerate(notes, start=row + 3):
        _put(sheet, offset, 1, tr(note))
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 90
    for (cell,) in sheet.iter_rows(min_row=2, max_col=1):
        cell.alignment = Alignment(vertical="top")


def table_workbook(
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    widths: Sequence[int] = (),
) -> bytes:
    """A plain one-sheet workbook: error reports, invitation lists."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    _header(sheet, headers)
    for row, values in enumerate(rows, start=2):
        for column, value in enumerate(values, start=1):
            _put(sheet, row, column, value)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    return _to_bytes(book)
