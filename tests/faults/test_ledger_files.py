"""Malformed ledger workbooks: the visible 台账 sheet (else the first visible one) is read, never a
hidden one; every row is read whatever the file's ``<dimension>`` says; both are reported."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

from documents.ledgerbook import read_ledger_file
from governance.ledgertable import HEADERS
from tests.bot.test_ledger_cli import _run, line


def _book(sheets: list[tuple[str, str, list[list[object]]]]) -> bytes:
    """A workbook of (title, state, rows) sheets in this order."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, state, rows in sheets:
        sheet = book.create_sheet(title)
        sheet.sheet_state = state  # type: ignore[assignment]
        for values in rows:
            sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_dimension(data: bytes, ref: str) -> bytes:
    """The same workbook with every sheet's recorded ``<dimension>`` replaced by ``ref``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename.startswith("xl/worksheets/sheet"):
                content = re.sub(
                    rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), content
                )
            target.writestr(info, content)
    return out.getvalue()


ROWS = [
    list(HEADERS),
    line("某街道办", "微博", "街道微博", "jd_wb", "王五"),
    line("某街道办", "抖音", "街道抖音", "jd_dy", "王五"),
    line("某街道办", "今日头条", "街道头条", "jd_tt", "王五"),
    line("某街道办", "快手", "街道快手", "jd_ks", "王五"),
]
DECOY = [list(HEADERS), line("诱饵单位", "微博", "不该导入", "decoy", "某人")]


def test_hidden_and_very_hidden_sheets_are_never_read() -> None:
    data = _book(
        [("旧台账", "hidden", DECOY), ("草稿", "veryHidden", DECOY), ("账号清单", "visible", ROWS)]
    )
    file = read_ledger_file(data, "台账.xlsx")
    assert file.sheet == "账号清单" and file.sheets_skipped == ("旧台账", "草稿")
    assert [r[2] for r in file.rows[1:]] == ["街道微博", "街道抖音", "街道头条", "街道快手"]


def test_the_visible_sheet_named_ledger_wins_over_the_first() -> None:
    data = _book([("说明", "visible", [["填写说明"]]), ("台账", "visible", ROWS)])
    assert read_ledger_file(data, "x.xlsx").sheet == "台账"
    hidden_ledger = _book([("台账", "hidden", DECOY), ("Sheet1", "visible", ROWS)])
    assert read_ledger_file(hidden_ledger, "x.xlsx").sheet == "Sheet1"


def test_rows_beyond_a_stale_dimension_are_read_and_counted() -> None:
    data = _with_dimension(_book([("台账", "visible", ROWS)]), "A1:L2")
    file = read_ledger_file(data, "台账.xlsx")
    assert file.rows_read == 5, "the header and all four accounts, not the 2 rows claimed"


def test_the_cli_says_which_sheet_it_read_and_imports_every_row(
    database_url: str, tmp_path: Path
) -> None:
    data = _book([("旧台账", "hidden", DECOY), ("账号清单", "visible", ROWS)])
    (tmp_path / "台账.xlsx").write_bytes(_with_dimension(data, "A1:L2"))
    run = _run(database_url, "import", "台账.xlsx", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "已读取工作表“账号清单”：5 行（含表头）。" in run.stdout
    assert "隐藏的工作表未读取：旧台账。" in run.stdout
    assert "已导入新账号 4 个" in run.stdout
