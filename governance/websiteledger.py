"""The 网站 sheet of the ledger (台账): government websites and their columns, one row each.

Pure, like :mod:`governance.ledger`: rows of cell values in, :class:`WebsiteRow` values and the
:class:`~governance.ledger.RowProblem` of every row that cannot be filed out. A website is named
by its unit and home page URL; a row with the column fields empty files only the website, and
the rows of one website repeat its unit, name, home page and responsible person. Importing an
exported sheet again changes nothing (known websites and column URLs are skipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from governance.errors import InvalidInput
from governance.i18n import N_
from governance.ledger import REQUIRED, RowProblem
from governance.ledgertable import cell_text, header_key
from governance.registry import validate_http_url, validate_text
from governance.websites import COLUMN_CLASS_LABELS, ColumnClass, parse_column_class

SHEET_WEBSITES = "网站"
#: (key, header) in sheet order; the first four are required on every row.
HEADERS: tuple[tuple[str, str], ...] = (
    ("unit", N_("单位")),
    ("name", N_("网站名称")),
    ("home_url", N_("首页地址")),
    ("responsible", N_("责任人")),
    ("column", N_("栏目名称")),
    ("column_url", N_("栏目地址")),
    ("kind", N_("栏目类别")),
    ("first_level", N_("一级栏目")),
    ("selector", N_("选择器")),
)
REQUIRED_KEYS = ("unit", "name", "home_url", "responsible")
COLUMN_KEYS = ("column", "column_url", "kind")
YES_WORDS = frozenset({"", "是", "y", "yes", "1", "一级"})
NO_WORDS = frozenset({"否", "n", "no", "0", "二级"})


@dataclass(frozen=True, slots=True)
class WebsiteRow:
    row: int
    unit: str
    name: str
    home_url: str
    responsible: str
    column: str | None = None
    column_url: str | None = None
    kind: ColumnClass | None = None
    first_level: bool = True
    selector: str | None = None


def _header_map(cells: Sequence[object]) -> dict[str, int]:
    wanted = {header_key(label): key for key, label in HEADERS}
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = wanted.get(header_key(cell_text(cell)))
        if key is not None and key not in found:
            found[key] = index
    return found


def parse_website_rows(
    rows: Sequence[Sequence[object]],
) -> tuple[list[WebsiteRow], list[RowProblem]]:
    """The sheet's rows (its header in the first rows), each checked on its own."""
    header_at, columns = -1, {}
    for index, cells in enumerate(rows[:10]):
        columns = _header_map(cells)
        if all(k in columns for k in REQUIRED_KEYS):
            header_at = index
            break
    if header_at < 0:
        missing = InvalidInput(N_("网站工作表缺少表头：单位、网站名称、首页地址、责任人。"))
        return [], [RowProblem(1, "", "", missing)]
    parsed: list[WebsiteRow] = []
    problems: list[RowProblem] = []
    for number, cells in enumerate(rows[header_at + 1 :], start=header_at + 2):
        values = {key: cell_text(cells[i]) if i < len(cells) else "" for key, i in columns.items()}
        if not any(values.values()):
            continue
        row, found = _row(number, values)
        problems += found
        if row is not None:
            parsed.append(row)
    return parsed, problems


def _label(key: str) -> str:
    return dict(HEADERS)[key]


def _row(number: int, v: dict[str, str]) -> tuple[WebsiteRow | None, list[RowProblem]]:
    problems: list[RowProblem] = []

    def check(key: str, rule: object) -> object:
        try:
            return rule() if callable(rule) else None
        except InvalidInput as exc:
            problems.append(RowProblem(number, _label(key), v.get(key, ""), exc))
            return None

    for key in REQUIRED_KEYS:
        if not v.get(key):
            problems.append(RowProblem(number, _label(key), "", InvalidInput(REQUIRED)))
    has_column = any(v.get(k) for k in COLUMN_KEYS)
    if has_column:
        for key in COLUMN_KEYS:
            if not v.get(key):
                problems.append(RowProblem(number, _label(key), "", InvalidInput(REQUIRED)))
    if problems:
        return None, problems
    home = check("home_url", lambda: validate_http_url(v["home_url"], label=N_("首页地址")))
    name = check("name", lambda: validate_text(v["name"], label=N_("网站名称"), max_len=60))
    kind = column_url = column = None
    first = True
    if has_column:
        column = check(
            "column", lambda: validate_text(v["column"], label=N_("栏目名称"), max_len=60)
        )
        column_url = check(
            "column_url", lambda: validate_http_url(v["column_url"], label=N_("栏目地址"))
        )
        kind = check("kind", lambda: parse_column_class(v["kind"]))
        word = v.get("first_level", "").strip().lower()
        if word not in YES_WORDS | NO_WORDS:
            problems.append(
                RowProblem(
                    number, _label("first_level"), word, InvalidInput(N_("请填“是”或“否”。"))
                )
            )
        first = word not in NO_WORDS
    if problems:
        return None, problems
    return (
        WebsiteRow(
            row=number,
            unit=v["unit"],
            name=str(name),
            home_url=str(home),
            responsible=v["responsible"],
            column=str(column) if column else None,
            column_url=str(column_url) if column_url else None,
            kind=kind if isinstance(kind, ColumnClass) else None,
            first_level=first,
            selector=v.get("selector") or None,
        ),
        [],
    )


def class_label(kind: ColumnClass) -> str:
    return COLUMN_CLASS_LABELS[kind]
