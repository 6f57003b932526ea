"""The ledger's layout (its columns and the row they hold) and how a cell, a header, a platform
and a status are read from someone's spreadsheet: split from :mod:`governance.ledger`, whose
rules validate and update whole rows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from governance.errors import InvalidInput
from governance.i18n import N_
from governance.registry import (
    LIVE_STATUSES,
    PLATFORM_LABELS,
    STATUS_LABELS,
    AccountStatus,
    Platform,
    clean_line,
    normalize_platform_ref,
)

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
HEADER_SCAN_ROWS = 10
SHEET_TITLE = "台账"


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


def header_key(text: str) -> str:
    return _HEADER_NOISE.sub("", text).lower()


_HEADER_LOOKUP: dict[str, str] = {
    header_key(name): column.key for column in COLUMNS for name in (column.header, *column.aliases)
}


def map_header(cells: Sequence[object]) -> dict[str, int]:
    """Column key → index for a header row; unknown headers are ignored."""
    found: dict[str, int] = {}
    for index, cell in enumerate(cells):
        key = _HEADER_LOOKUP.get(header_key(cell_text(cell)))
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
