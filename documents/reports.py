"""A report's files: the workbook with its charts embedded, and the charts as PNG files.

CPU-bound (matplotlib, openpyxl): callers run :func:`render` in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from documents.charts import report_charts
from documents.ledgerbook import Translate
from documents.reportbook import report_workbook
from governance.reporting import Report


def _identity(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class ReportFiles:
    workbook: bytes
    charts: list[tuple[str, str, bytes]]
    """(file name, title, PNG bytes)."""


def render(report: Report, *, tz: ZoneInfo, tr: Translate = _identity) -> ReportFiles:
    charts = report_charts(report, tr=tr)
    book = report_workbook(report, tz=tz, tr=tr, charts=[(t, png) for _n, t, png in charts])
    return ReportFiles(book, charts)


def file_name(report: Report) -> str:
    """``政务新媒体报告-20260101-20260331.xlsx`` (抽查 when it holds an inspection)."""
    kind = "抽查" if report.inspection is not None else "报告"
    span = f"{report.period.start:%Y%m%d}-{report.period.end:%Y%m%d}"
    return f"政务新媒体{kind}-{span}.xlsx"
