"""Registering government websites and their watched columns (chat and ledger share these).

A website is filed as an account of platform ``website`` through the registry's own
``register_account`` (the same permissions, unit scope, responsible person, approval for unit
managers and audit row), plus a ``websites`` row and its home page as the first watched page.
Columns are added, re-classed or given a CSS selector by admins and the unit's managers; every
change writes an audit row. Nothing here commits: the caller's transaction is the user action.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    UserFacingError,
)
from governance.i18n import N_
from governance.ledger import RowProblem
from governance.registry import (
    AccountStatus,
    normalize_platform_ref,
    validate_account_name,
    validate_http_url,
    validate_text,
)
from governance.roles import Actor, can_edit_account
from governance.vocabulary import Platform
from governance.websiteledger import WebsiteRow
from governance.websites import ColumnClass, parse_column_class
from models import audit, people
from models.accounts import Account, AccountDraft, register_account, snapshot
from models.people import Unit
from models.websites import (
    Website,
    WebsiteColumn,
    find_column,
    get_website,
    invitation_in_unit,
    person_in_unit,
    website_in_unit,
)

#: A website has no posting plan of its own: its registration says what is monitored instead.
WEBSITE_NECESSITY = "政府网站：按《政府网站与政务新媒体检查指标》监测可用性、首页和栏目更新。"
WEBSITE_PLAN = "栏目更新按检查指标执行：动态要闻类2周内、通知公告和政策文件类6个月内更新。"
SELECTOR_MAX = 200
COLUMN_NAME_MAX = 60


@dataclass(frozen=True, slots=True)
class WebsiteDraft:
    name: str
    home_url: str
    unit_id: int
    responsible_id: int


def column_class(text: str) -> ColumnClass:
    return parse_column_class(text)


async def register_website(
    session: AsyncSession, *, actor: Actor, draft: WebsiteDraft, now: datetime
) -> tuple[Account, Website]:
    url = validate_http_url(draft.home_url, label=N_("网站首页地址"))
    account = await register_account(
        session,
        actor=actor,
        draft=AccountDraft(
            platform=Platform.WEBSITE.value,
            name=draft.name,
            platform_ref=url,
            unit_id=draft.unit_id,
            responsible_id=draft.responsible_id,
            posts_per_week=1,
            necessity=WEBSITE_NECESSITY,
            operating_plan=WEBSITE_PLAN,
            duplicate_reason="政府网站与其栏目分别登记",
        ),
        now=now,
    )
    assert account.id is not None
    site, home = _site_row(account.id, url, actor, now)
    session.add_all([site, home])
    await session.flush()
    assert isinstance(site, Website)
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="website.registered",
        object_type="account",
        object_id=account.id,
        after={"home_url": url},
    )
    return account, site


def _site_row(account_id: int, url: str, actor: Actor, now: datetime) -> list[object]:
    return [
        Website(account_id=account_id, home_url=url, created_at=now, next_probe_at=now),
        WebsiteColumn(
            account_id=account_id,
            name="首页",
            url=url,
            kind=ColumnClass.HOME,
            first_level=True,
            created_at=now,
            created_by=actor.user_id,
            next_poll_at=now,
        ),
    ]


async def _file_invited(
    session: AsyncSession,
    *,
    actor: Actor,
    row: WebsiteRow,
    unit_id: int,
    invitation_id: int,
    now: datetime,
) -> Account:
    """A website whose responsible person is still invited (the ledger's own rule for accounts)."""
    account = Account(
        platform=Platform.WEBSITE,
        name=validate_account_name(row.name),
        platform_ref=row.home_url,
        platform_ref_norm=normalize_platform_ref(row.home_url),
        unit_id=unit_id,
        responsible_invitation_id=invitation_id,
        posts_per_week=1,
        necessity=WEBSITE_NECESSITY,
        operating_plan=WEBSITE_PLAN,
        duplicate_reason="政府网站与其栏目分别登记",
        status=AccountStatus.ACTIVE,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
        decided_by=actor.user_id,
        decided_at=now,
    )
    session.add(account)
    await session.flush()
    assert account.id is not None
    session.add_all(_site_row(account.id, row.home_url, actor, now))
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="website.imported",
        object_type="account",
        object_id=account.id,
        after={**snapshot(account), "home_url": row.home_url},
    )
    return account


async def _editable_site(session: AsyncSession, *, actor: Actor, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None or await get_website(session, account_id) is None:
        raise NotFound(N_("找不到编号为 {id} 的网站。"), id=account_id)
    if not can_edit_account(actor, account.unit_id):
        raise PermissionDenied(N_("只有管理员和本单位管理员可以维护网站栏目。"))
    return account


def validate_selector(text: str | None) -> str | None:
    value = (text or "").strip()
    if not value or value in ("-", "无"):
        return None
    if len(value) > SELECTOR_MAX or "\n" in value:
        raise InvalidInput(N_("选择器不能超过 {max} 个字符。"), max=SELECTOR_MAX)
    try:
        from cssselect import GenericTranslator, SelectorError

        GenericTranslator().css_to_xpath(value)
    except SelectorError:
        raise InvalidInput(N_("选择器写法有误，例如：ul.list > li")) from None
    return value


async def add_column(
    session: AsyncSession,
    *,
    actor: Actor,
    account_id: int,
    name: str,
    url: str,
    kind: ColumnClass,
    first_level: bool = True,
    selector: str | None = None,
    now: datetime,
) -> WebsiteColumn:
    await _editable_site(session, actor=actor, account_id=account_id)
    if kind is ColumnClass.HOME:
        raise InvalidInput(N_("首页随网站登记，不能作为栏目添加。"))
    label = validate_text(name, label=N_("栏目名称"), max_len=COLUMN_NAME_MAX)
    link = validate_http_url(url, label=N_("栏目列表页地址"))
    if await find_column(session, account_id=account_id, url=link) is not None:
        raise Conflict(N_("该栏目地址已登记。"))
    column = WebsiteColumn(
        account_id=account_id,
        name=label,
        url=link,
        kind=kind,
        first_level=first_level,
        selector=validate_selector(selector),
        created_at=now,
        created_by=actor.user_id,
        next_poll_at=now,
    )
    session.add(column)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="website.column_added",
        object_type="account",
        object_id=account_id,
        after={"column_id": column.id, "name": label, "url": link, "kind": kind.value},
    )
    return column


async def set_selector(
    session: AsyncSession, *, actor: Actor, column_id: int, selector: str | None, now: datetime
) -> WebsiteColumn:
    column = await session.get(WebsiteColumn, column_id)
    if column is None or not column.active:
        raise NotFound(N_("找不到编号为 {id} 的栏目。"), id=column_id)
    await _editable_site(session, actor=actor, account_id=column.account_id)
    before = column.selector
    column.selector = validate_selector(selector)
    column.next_poll_at, column.etag, column.last_modified = now, None, None  # read it again now
    session.add(column)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_id=actor.user_id,
        action="website.selector_changed",
        object_type="account",
        object_id=column.account_id,
        before={"column_id": column_id, "selector": before},
        after={"column_id": column_id, "selector": column.selector},
    )
    return column


# --- the 网站 sheet of the ledger -------------------------------------------------------------


@dataclass(slots=True)
class WebsiteImport:
    websites: int = 0
    columns: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)


async def import_websites(
    session: AsyncSession, *, actor: Actor, rows: Sequence[WebsiteRow], now: datetime
) -> WebsiteImport:
    """File the sheet's websites and columns that are not registered yet; row by row, each in a
    savepoint, so one bad row (an unknown unit, a person not in the unit, a taken URL) is
    reported and the others are filed. Units and people are found by name, as in the ledger."""
    result = WebsiteImport()
    units = {u.name: u for u in await people.list_units(session)}
    for row in rows:
        try:
            async with session.begin_nested():
                filed = await _import_row(session, actor=actor, row=row, units=units, now=now)
        except UserFacingError as exc:
            result.problems.append(RowProblem(row.row, "", row.home_url, exc))
            continue
        result.websites += filed[0]
        result.columns += filed[1]
        result.unchanged += not any(filed)
    return result


async def _import_row(
    session: AsyncSession,
    *,
    actor: Actor,
    row: WebsiteRow,
    units: dict[str, Unit],
    now: datetime,
) -> tuple[int, int]:
    unit = units.get(row.unit)
    if unit is None or unit.id is None:
        raise NotFound(N_("找不到单位“{name}”，请先在台账工作表或单位管理中建立。"), name=row.unit)
    account_id = await website_in_unit(session, unit_id=unit.id, home_url=row.home_url)
    new_site = 0
    if account_id is None:
        person = await person_in_unit(session, unit_id=unit.id, name=row.responsible)
        if person is not None:
            account, _site = await register_website(
                session,
                actor=actor,
                draft=WebsiteDraft(
                    name=row.name, home_url=row.home_url, unit_id=unit.id, responsible_id=person
                ),
                now=now,
            )
        else:  # named in the 台账 sheet but not joined yet: their invitation stands in
            invitation = await invitation_in_unit(session, unit_id=unit.id, name=row.responsible)
            if invitation is None or not actor.is_admin:
                raise NotFound(
                    N_("责任人“{name}”不是“{unit}”的人员，也没有待接受的邀请。"),
                    name=row.responsible,
                    unit=row.unit,
                )
            account = await _file_invited(
                session, actor=actor, row=row, unit_id=unit.id, invitation_id=invitation, now=now
            )
        account_id, new_site = account.id or 0, 1
    if row.column_url is None or row.kind is None or row.column is None:
        return new_site, 0
    if await find_column(session, account_id=account_id, url=row.column_url) is not None:
        return new_site, 0
    await add_column(
        session,
        actor=actor,
        account_id=account_id,
        name=row.column,
        url=row.column_url,
        kind=row.kind,
        first_level=row.first_level,
        selector=row.selector,
        now=now,
    )
    return new_site, 1
