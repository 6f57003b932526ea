"""The ledger (台账): the registry as a table, and the rules for importing one.

Pure: a table arrives as rows of cell values (read from .xlsx or .csv by
:mod:`documents.ledgerbook`) and leaves as :class:`LedgerRow` objects ready to file, plus the
:class:`RowProblem` of every row that cannot be filed. The registry's current state, which
some rules need (platform ids already registered, a unit's accounts per platform, people by
name), is handed in as plain data in :class:`Existing`, so the same rules run for the bot,
the CLI and the tests.

Every rule of registration applies to every row: required fields and their lengths, platform
by name, posts per week at least 1, URLs, one platform id registered once (within the file
and against the registry), a second account of a unit on a platform only with a reason, and
a reason for the statuses that need one. A row equal to an account already registered is
recognised and skipped, so importing an exported ledger again changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from governance.errors import InvalidInput, UserFacingError
from governance.i18n import N_
from governance.registry import (
    LIVE_STATUSES,
    PERSON_NAME_MAX,
    PLATFORM_LABELS,
    REASON_REQUIRED,
    STATUS_LABELS,
    AccountStatus,
    Platform,
    clean_line,
    normalize_platform_ref,
    validate_account_name,
    validate_http_url,
    validate_necessity,
    validate_plan,
    validate_platform_ref,
    validate_posts_per_week,
    validate_reason,
    validate_text,
    validate_unit_name,
)

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
HEADER_SCAN_ROWS = 10
SHEET_TITLE = "台账"
REQUIRED = N_("必填项，不能为空。")

Rule = Callable[[str], object]  # a field's check: the cell's text in, the value or InvalidInput


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the ledger: its key, the header people see, and what goes in it."""

    key: str
    header: str
    required: bool
    help: str
    aliases: tuple[str, ...] = ()


#: The ledger's layout: the template, the export and the import all use exactly these columns.
COLUMNS: tuple[Column, ...] = (
    Column(
        "unit",
        "单位",
        True,
        N_("账号所属单位的全称；系统中还没有的单位导入时自动新增。"),
        ("单位名称", "所属单位", "主办单位"),
    ),
    Column("platform", "平台", True, N_("平台名称，请从下拉列表中选择。"), ("平台名称",)),
    Column("name", "账号名称", True, N_("账号在平台上显示的名称，2–60 个字。")),
    Column(
        "platform_ref",
        "平台账号ID或主页",
        True,
        N_("平台账号ID（如微信号）或以 https:// 开头的主页网址；同一平台账号不能重复登记。"),
        ("平台账号ID", "账号ID", "主页网址"),
    ),
    Column(
        "responsible",
        "责任人",
        True,
        N_(
            "责任人姓名，须与本人在机器人中显示的名字一致；尚未加入的，导入后生成邀请链接，"
            "本人通过链接加入后即成为责任人。"
        ),
        ("责任人姓名",),
    ),
    Column(
        "posts_per_week",
        "每周计划发布条数",
        True,
        N_("承诺每周发布的条数，整数，1–200。"),
        ("每周发布条数", "更新频率"),
    ),
    Column("necessity", "开设理由", True, N_("开设必要性，10–1000 个字。"), ("开设必要性",)),
    Column("plan", "运营计划", True, N_("运营计划：栏目、频率、编辑与审核安排，10–2000 个字。")),
    Column(
        "duplicate_reason",
        "同平台多账号理由",
        False,
        N_("同一单位在同一平台已有账号时必填，说明再开设的理由。"),
    ),
    Column(
        "feed_url",
        "订阅源地址",
        False,
        N_("RSS/Atom/JSON Feed 地址，以 http:// 或 https:// 开头；可不填。"),
        ("订阅源",),
    ),
    Column("status", "状态", False, N_("账号状态，请从下拉列表中选择；不填即为“在用”。")),
    Column("status_reason", "状态说明", False, N_("状态为暂停、关停、注销或未通过时必填。")),
)
HEADERS: tuple[str, ...] = tuple(c.header for c in COLUMNS)
COLUMN_BY_KEY: dict[str, Column] = {c.key: c for c in COLUMNS}

#: Other ways people write platform names in their own spreadsheets (import only).
PLATFORM_ALIASES: dict[str, Platform] = {
    "微信": Platform.WECHAT,
    "公众号": Platform.WECHAT,
    "微信公众平台": Platform.WECHAT,
    "新浪微博": Platform.WEIBO,
    "头条": Platform.TOUTIAO,
    "头条号": Platform.TOUTIAO,
    "哔哩哔哩": Platform.BILIBILI,
    "b站": Platform.BILIBILI,
    "微信视频号": Platform.CHANNELS,
    "政府网站": Platform.WEBSITE,
    "网站": Platform.WEBSITE,
}

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HEADER_NOISE = re.compile(r"[\s*＊（(]+|[)）]")


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One account as the ledger holds it, validated."""

    row: int
    unit: str
    platform: Platform
    name: str
    platform_ref: str
    responsible: str
    posts_per_week: int
    necessity: str
    operating_plan: str
    duplicate_reason: str | None
    feed_url: str | None
    status: AccountStatus
    status_reason: str | None

    @property
    def ref_norm(self) -> str:
        return normalize_platform_ref(self.platform_ref)

    @property
    def live(self) -> bool:
        return self.status in LIVE_STATUSES

    def cells(self) -> tuple[str | int, ...]:
        """The row's cells in :data:`COLUMNS` order, as the export writes them."""
        return (
            self.unit,
            PLATFORM_LABELS[self.platform],
            self.name,
            self.platform_ref,
            self.responsible,
            self.posts_per_week,
            self.necessity,
            self.operating_plan,
            self.duplicate_reason or "",
            self.feed_url or "",
            STATUS_LABELS[self.status],
            self.status_reason or "",
        )


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why one row (``column``: a header, or "" for the whole row) cannot be imported."""

    row: int
    column: str
    value: str
    error: UserFacingError


@dataclass(frozen=True, slots=True)
class Existing:
    """What the rules need to know about the registry as it is."""

    #: (platform, normalized ref) → (name, id) of each live account
    refs: Mapping[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    #: (unit name, platform) → name of a live account of that unit on that platform
    unit_platforms: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: (unit name, person name) → how many active people of that unit have that name
    people: Mapping[tuple[str, str], int] = field(default_factory=dict)
    #: :meth:`LedgerRow.cells` of every registered account: such rows are already filed
    registered: frozenset[tuple[str | int, ...]] = frozenset()


@dataclass(frozen=True, slots=True)
class Validation:
    """The verdict on a whole table."""

    total: int
    rows: list[LedgerRow]
    unchanged: list[int]
    problems: list[RowProblem]

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems})


# --- cells and headers ----------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as text: whole numbers without ``.0``, dates as ISO, control characters dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _ILLEGAL.sub("", text).strip()


def _header_key(text: str) -> str:
    return _HEADER_NOISE.sub("", text).lower()


_HEADER_LOOKUP: dict[str, str] = {
    _header_key(name): column.key for column in COLUMNS for name in (column.header, *column.aliases)
}


def map_header(cells: Sequence[object]) -> dict[str, int]:
    """Column key → index for a header row; unknown headers are ignored."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _HEADER_LOOKUP.get(_header_key(cell_text(cell)))
        if key is not None and key not in found:
            found[key] = index
    return found


def find_header(rows: Sequence[Sequence[object]]) -> tuple[int, dict[str, int]]:
    """The index of the header row (within the first few rows) and its column map."""
    best: tuple[int, dict[str, int]] = (0, {})
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        mapping = map_header(cells)
        if len(mapping) > len(best[1]):
            best = (index, mapping)
    missing = [c.header for c in COLUMNS if c.required and c.key not in best[1]]
    if missing:
        raise InvalidInput(
            N_("找不到台账表头，缺少这些列：{missing}。第一行应为列名，请下载模板对照。"),
            missing="、".join(missing),
        )
    return best


# --- single fields --------------------------------------------------------------------------


def parse_platform(text: str) -> Platform:
    value = clean_line(text)
    if not value:
        raise InvalidInput(N_("“{label}”不能为空，请重新输入。"), label=N_("平台"))
    for platform, label in PLATFORM_LABELS.items():
        if value == label or value.lower() == platform.value:
            return platform
    alias = PLATFORM_ALIASES.get(value.lower())
    if alias is not None:
        return alias
    raise InvalidInput(
        N_("无法识别的平台“{value}”，可填：{choices}。"),
        value=value[:30],
        choices="、".join(PLATFORM_LABELS.values()),
    )


def parse_status(text: str) -> AccountStatus:
    value = clean_line(text)
    if not value:
        return AccountStatus.ACTIVE
    for status, label in STATUS_LABELS.items():
        if value == label or value.lower() == status.value:
            return status
    raise InvalidInput(
        N_("无法识别的状态“{value}”，可填：{choices}。"),
        value=value[:30],
        choices="、".join(STATUS_LABELS.values()),
    )


def validate_person_name(text: str | None) -> str:
    return validate_text(text, label=N_("责任人"), max_len=PERSON_NAME_MAX)


# --- rows -----------------------------------------------------------------------------------


def _validate_row(row: int, cells: Mapping[str, str]) -> tuple[LedgerRow | None, list[RowProblem]]:
    """Check every field of one row; collect every problem, not just the first."""
    problems: list[RowProblem] = []
    values: dict[str, object] = {}

    def check(key: str, rule: Rule) -> None:
        raw = cells.get(key, "")
        column = COLUMN_BY_KEY[key]
        if column.required and not raw.strip():
            problems.append(RowProblem(row, column.header, "", InvalidInput(REQUIRED)))
            return
        try:
            values[key] = rule(raw)
        except UserFacingError as exc:
            problems.append(RowProblem(row, COLUMN_BY_KEY[key].header, raw, exc))

    def optional(rule: Rule) -> Rule:
        return lambda raw: rule(raw) if clean_line(raw) else None

    check("unit", validate_unit_name)
    check("platform", parse_platform)
    check("name", validate_account_name)
    check("platform_ref", validate_platform_ref)
    check("responsible", validate_person_name)
    check("posts_per_week", validate_posts_per_week)
    check("necessity", validate_necessity)
    check("plan", validate_plan)
    check(
        "duplicate_reason",
        optional(lambda raw: validate_reason(raw, label=N_("同平台多账号理由"))),
    )
    check("feed_url", optional(lambda raw: validate_http_url(raw, label=N_("订阅源地址"))))
    check("status", parse_status)
    status = values.get("status")
    if isinstance(status, AccountStatus) and status in REASON_REQUIRED:
        if not clean_line(cells.get("status_reason")):
            problems.append(
                RowProblem(
                    row,
                    COLUMN_BY_KEY["status_reason"].header,
                    "",
                    InvalidInput(
                        N_("状态为“{status}”时须填写状态说明。"), status=STATUS_LABELS[status]
                    ),
                )
            )
        else:
            check("status_reason", lambda raw: validate_reason(raw, label=N_("状态说明")))
    else:
        check(
            "status_reason",
            optional(lambda raw: validate_reason(raw, label=N_("状态说明"))),
        )
    if problems:
        return None, problems
    return (
        LedgerRow(
            row=row,
            unit=values["unit"],  # type: ignore[arg-type]
            platform=values["platform"],  # type: ignore[arg-type]
            name=values["name"],  # type: ignore[arg-type]
            platform_ref=values["platform_ref"],  # type: ignore[arg-type]
            responsible=values["responsible"],  # type: ignore[arg-type]
            posts_per_week=values["posts_per_week"],  # type: ignore[arg-type]
            necessity=values["necessity"],  # type: ignore[arg-type]
            operating_plan=values["plan"],  # type: ignore[arg-type]
            duplicate_reason=values.get("duplicate_reason"),  # type: ignore[arg-type]
            feed_url=values.get("feed_url"),  # type: ignore[arg-type]
            status=values["status"],  # type: ignore[arg-type]
            status_reason=values.get("status_reason"),  # type: ignore[arg-type]
        ),
        [],
    )


def _key_fields(cells: Mapping[str, str]) -> tuple[str, Platform, str] | None:
    """(unit, platform, normalized ref) of a row whose key fields parse, for cross-row rules."""
    try:
        unit = validate_unit_name(cells.get("unit"))
        platform = parse_platform(cells.get("platform", ""))
        ref = validate_platform_ref(cells.get("platform_ref"))
        live = parse_status(cells.get("status", "")) in LIVE_STATUSES
    except UserFacingError:
        return None
    return (unit, platform, normalize_platform_ref(ref)) if live else None


def validate_table(rows: Sequence[Sequence[object]], existing: Existing) -> Validation:
    """Validate every data row of a table whose header is among its first rows.

    Row numbers are the spreadsheet's own (1-based, header included), as Excel shows them.
    Raises :class:`InvalidInput` for a table that is not a ledger at all (no header, no data,
    too many rows); otherwise reports each row's problems and files nothing.
    """
    header_index, mapping = find_header(rows)
    records: list[tuple[int, dict[str, str]]] = []
    for offset, raw in enumerate(rows[header_index + 1 :], start=header_index + 2):
        cells = {
            key: cell_text(raw[index]) if index < len(raw) else "" for key, index in mapping.items()
        }
        if any(cells.values()):
            records.append((offset, cells))
    if not records:
        raise InvalidInput(N_("台账中没有数据行：请在表头下方逐行填写账号。"))
    if len(records) > MAX_ROWS:
        raise InvalidInput(
            N_("台账最多 {max} 行，当前 {n} 行，请分批导入。"), max=MAX_ROWS, n=len(records)
        )

    good: list[LedgerRow] = []
    unchanged: list[int] = []
    problems: list[RowProblem] = []
    seen_refs: dict[tuple[Platform, str], int] = {}
    seen_slots: dict[tuple[str, Platform], int] = {}
    for number, cells in records:
        row, row_problems = _validate_row(number, cells)
        if row is not None and row.cells() in existing.registered:
            unchanged.append(number)
            continue
        key = _key_fields(cells)
        if key is not None:
            unit, platform, ref_norm = key
            row_problems += _cross_checks(
                number, cells, unit, platform, ref_norm, existing, seen_refs, seen_slots
            )
            seen_refs.setdefault((platform, ref_norm), number)
            seen_slots.setdefault((unit, platform), number)
        if row is not None:
            row_problems += _person_check(row, existing)
        if row_problems:
            problems += row_problems
        elif row is not None:
            good.append(row)
    return Validation(total=len(records), rows=good, unchanged=unchanged, problems=problems)


def _cross_checks(
    number: int,
    cells: Mapping[str, str],
    unit: str,
    platform: Platform,
    ref_norm: str,
    existing: Existing,
    seen_refs: Mapping[tuple[Platform, str], int],
    seen_slots: Mapping[tuple[str, Platform], int],
) -> list[RowProblem]:
    """One platform id once; a unit's second account on a platform needs a reason."""
    problems: list[RowProblem] = []
    ref_header = COLUMN_BY_KEY["platform_ref"].header
    ref_raw = cells.get("platform_ref", "")
    registered = existing.refs.get((platform.value, ref_norm))
    if registered is not None:
        problems.append(
            RowProblem(
                number,
                ref_header,
                ref_raw,
                InvalidInput(
                    N_("该平台账号已登记为“{name}”（编号 {id}），同一平台账号不能重复登记。"),
                    name=registered[0],
                    id=registered[1],
                ),
            )
        )
    elif (platform, ref_norm) in seen_refs:
        problems.append(
            RowProblem(
                number,
                ref_header,
                ref_raw,
                InvalidInput(
                    N_("与第 {row} 行是同一平台账号，同一平台账号不能重复登记。"),
                    row=seen_refs[(platform, ref_norm)],
                ),
            )
        )
    if not clean_line(cells.get("duplicate_reason")):
        sibling = existing.unit_platforms.get((unit, platform.value))
        earlier = seen_slots.get((unit, platform))
        error = None
        if sibling is not None:
            error = InvalidInput(
                N_(
                    "该单位在{platform}已有账号“{name}”，再开设同平台账号须填写“同平台多账号理由”。"
                ),
                platform=PLATFORM_LABELS[platform],
                name=sibling,
            )
        elif earlier is not None:
            error = InvalidInput(
                N_(
                    "第 {row} 行已是该单位的{platform}账号，"
                    "再开设同平台账号须填写“同平台多账号理由”。"
                ),
                platform=PLATFORM_LABELS[platform],
                row=earlier,
            )
        if error is not None:
            problems.append(RowProblem(number, COLUMN_BY_KEY["duplicate_reason"].header, "", error))
    return problems


def _person_check(row: LedgerRow, existing: Existing) -> list[RowProblem]:
    count = existing.people.get((row.unit, row.responsible), 0)
    if count <= 1:
        return []
    return [
        RowProblem(
            row.row,
            COLUMN_BY_KEY["responsible"].header,
            row.responsible,
            InvalidInput(
                N_("单位“{unit}”中有 {n} 人名为“{name}”，无法确定责任人，请在机器人中登记。"),
                unit=row.unit,
                n=count,
                name=row.responsible,
            ),
        )
    ]
