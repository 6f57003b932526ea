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
from datetime import date

from governance.errors import InvalidInput, UserFacingError
from governance.i18n import N_
from governance.ledgertable import (
    COLUMN_BY_KEY,
    COLUMNS,
    MAX_ROWS,
    LedgerRow,
    cell_text,
    find_header,
    header_key,
    parse_platform,
    parse_status,
)
from governance.registry import (
    LIVE_STATUSES,
    PERSON_NAME_MAX,
    PLATFORM_LABELS,
    REASON_REQUIRED,
    STATUS_LABELS,
    AccountStatus,
    Platform,
    check_transition,
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

REQUIRED = N_("必填项，不能为空。")

Rule = Callable[[str], object]  # a field's check: the cell's text in, the value or InvalidInput


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
    #: (platform, normalized ref) → (id, current row) of every account a row may update (a
    #: live one wins over a closed one with the same id)
    accounts: Mapping[tuple[str, str], tuple[int, LedgerRow]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of a registered account that a ledger row changes."""

    key: str
    header: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class RowUpdate:
    """A ledger row that matches a registered account (same platform and platform id) and
    changes some of its fields: shown to the admin as a diff, applied only when confirmed."""

    row: LedgerRow
    account_id: int
    current: LedgerRow
    changes: tuple[FieldChange, ...]

    def changed(self, key: str) -> bool:
        return any(c.key == key for c in self.changes)


@dataclass(frozen=True, slots=True)
class AliasNote:
    """A platform written under another name, and the name it was read as (微信 → 微信公众号)."""

    row: int
    written: str
    platform: Platform


@dataclass(frozen=True, slots=True)
class Validation:
    """The verdict on a whole table."""

    total: int
    rows: list[LedgerRow]
    unchanged: list[int]
    problems: list[RowProblem]
    updates: list[RowUpdate] = field(default_factory=list)
    aliases: list[AliasNote] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems})


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


#: What a ledger row may change on a registered account (platform and platform id identify it).
UPDATABLE = (
    "unit",
    "name",
    "responsible",
    "posts_per_week",
    "necessity",
    "plan",
    "duplicate_reason",
    "feed_url",
    "status",
    "status_reason",
)
FROZEN = N_("已关停、注销或未通过的账号不能修改。")
PENDING_STATUS = N_("该账号尚在登记审批中，请先审批，再修改状态。")


def diff_rows(current: LedgerRow, incoming: LedgerRow) -> tuple[FieldChange, ...]:
    """The fields ``incoming`` changes, as the ledger shows them (before → after)."""
    keys = [c.key for c in COLUMNS]
    before, after = current.cells(), incoming.cells()
    return tuple(
        FieldChange(key, COLUMN_BY_KEY[key].header, str(before[i]), str(after[i]))
        for i, key in enumerate(keys)
        if key in UPDATABLE and str(before[i]) != str(after[i])
    )


def check_update(update: RowUpdate) -> list[RowProblem]:
    """The card's rules for an edit: closed, cancelled and rejected accounts stay as they are;
    a status moves only along the lifecycle, and not while the registration awaits approval."""
    current, row = update.current.status, update.row.status
    status_header = COLUMN_BY_KEY["status"].header
    if current not in LIVE_STATUSES:
        return [RowProblem(update.row.row, "", "", InvalidInput(FROZEN))]
    if row == current:
        return []
    if current == AccountStatus.PENDING:
        return [
            RowProblem(
                update.row.row, status_header, STATUS_LABELS[row], InvalidInput(PENDING_STATUS)
            )
        ]
    try:
        check_transition(current, row)
    except UserFacingError as exc:
        return [RowProblem(update.row.row, status_header, STATUS_LABELS[row], exc)]
    return []


def _match_key(cells: Mapping[str, str]) -> tuple[str, str] | None:
    try:
        platform = parse_platform(cells.get("platform", ""))
        ref = validate_platform_ref(cells.get("platform_ref"))
    except UserFacingError:
        return None
    return platform.value, normalize_platform_ref(ref)


def _alias(number: int, cells: Mapping[str, str]) -> AliasNote | None:
    written = clean_line(cells.get("platform", ""))
    try:
        platform = parse_platform(written)
    except UserFacingError:
        return None
    if written in {PLATFORM_LABELS[platform], platform.value}:
        return None
    return AliasNote(number, written, platform)


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
    updates: list[RowUpdate] = []
    aliases = [a for a in (_alias(n, cells) for n, cells in records) if a is not None]
    seen_refs: dict[tuple[Platform, str], int] = {}
    seen_slots: dict[tuple[str, Platform], int] = {}
    for number, cells in records:
        row, row_problems = _validate_row(number, cells)
        if row is not None and row.cells() in existing.registered:
            unchanged.append(number)
            continue
        match_key = _match_key(cells)
        match = existing.accounts.get(match_key) if match_key is not None else None
        key = _key_fields(cells)
        if key is not None:
            unit, platform, ref_norm = key
            row_problems += _cross_checks(
                number,
                cells,
                unit,
                platform,
                ref_norm,
                existing,
                seen_refs,
                seen_slots,
                matched=match[1] if match is not None else None,
            )
            seen_refs.setdefault((platform, ref_norm), number)
            seen_slots.setdefault((unit, platform), number)
        if row is not None:
            row_problems += _person_check(row, existing)
        if row is not None and match is not None and not row_problems:
            account_id, current = match
            update = RowUpdate(row, account_id, current, diff_rows(current, row))
            if not update.changes:
                unchanged.append(number)
                continue
            row_problems += check_update(update)
            if not row_problems:
                updates.append(update)
                continue
        if row_problems:
            problems += row_problems
        elif row is not None:
            good.append(row)
    return Validation(
        total=len(records),
        rows=good,
        unchanged=unchanged,
        problems=problems,
        updates=updates,
        aliases=aliases,
    )


def _cross_checks(
    number: int,
    cells: Mapping[str, str],
    unit: str,
    platform: Platform,
    ref_norm: str,
    existing: Existing,
    seen_refs: Mapping[tuple[Platform, str], int],
    seen_slots: Mapping[tuple[str, Platform], int],
    matched: LedgerRow | None = None,
) -> list[RowProblem]:
    """One platform id once; a unit's second account on a platform needs a reason.

    A row ``matched`` to a registered account updates it: it is not a second registration of
    its platform id, and it needs a reason only when it moves the account to a unit that
    already has an account on the platform."""
    problems: list[RowProblem] = []
    ref_header = COLUMN_BY_KEY["platform_ref"].header
    ref_raw = cells.get("platform_ref", "")
    registered = existing.refs.get((platform.value, ref_norm))
    if (platform, ref_norm) in seen_refs:
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
        return problems  # a repeated row: its second-account question is the first row's
    if matched is not None:
        if matched.unit == unit or matched.status not in LIVE_STATUSES:
            return problems
        registered = None
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


# --- an inspector's extra column ------------------------------------------------------------

#: Headers of an optional opening-date column an inspector's ledger may carry (not part of the
#: bot's layout: the bot knows each account's registration date itself).
OPENED_HEADERS = ("开设日期", "开通日期", "开设时间", "开通时间")
_DAY = re.compile(r"^\s*(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def opening_dates(rows: Sequence[Sequence[object]]) -> dict[tuple[str, str], date]:
    """(platform, normalized ref) → opening date, from an 开设日期 column when the table has one;
    unreadable or missing dates are left out (the account then has no opening date)."""
    header_index, mapping = find_header(rows)
    header = [header_key(cell_text(c)) for c in rows[header_index]]
    wanted = {header_key(h) for h in OPENED_HEADERS}
    column = next((i for i, h in enumerate(header) if h in wanted), None)
    if column is None:
        return {}
    found: dict[tuple[str, str], date] = {}
    for raw in rows[header_index + 1 :]:
        cells = {k: cell_text(raw[i]) if i < len(raw) else "" for k, i in mapping.items()}
        key = _match_key(cells)
        match = _DAY.match(cell_text(raw[column]) if column < len(raw) else "")
        if key is None or match is None:
            continue
        try:
            found[key] = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return found
