"""Registering government websites and their watched columns (chat and ledger share these).

A website is filed as an account of platform ``website`` through the registry's own
``register_account`` (the same permissions, unit scope, responsible person, approval for unit
managers and audit row), plus a ``websites`` row and its home page as the first watched page.
Columns are added, re-classed or given a CSS selector by admins and the unit's managers; every
change writes an audit row. Nothing here commits: the caller's transaction is the user action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from governance.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from governance.i18n import N_
from governance.registry import validate_http_url, validate_text
from governance.roles import Actor, can_edit_account
from governance.vocabulary import Platform
from governance.websites import COLUMN_CLASSES, ColumnClass
from models import audit
from models.accounts import Account, AccountDraft, register_account
from models.websites import Website, WebsiteColumn, find_column, get_website

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
    """A column class from its value or its Chinese label (chat and ledger)."""
    from governance.websites import COLUMN_CLASS_LABELS

    raw = (text or "").strip()
    for kind in COLUMN_CLASSES:
        if raw in (kind.value, COLUMN_CLASS_LABELS[kind]):
            return kind
    aliases = {
        "动态": ColumnClass.NEWS,
        "要闻": ColumnClass.NEWS,
        "通知": ColumnClass.NOTICE,
        "公告": ColumnClass.NOTICE,
        "政策": ColumnClass.POLICY,
        "人事": ColumnClass.PERSONNEL,
        "互动": ColumnClass.INTERACTION,
        "其它": ColumnClass.OTHER,
    }
    if raw in aliases:
        return aliases[raw]
    raise InvalidInput(N_("栏目类别应为：动态要闻、通知公告、政策文件、人事规划、互动交流或其他。"))


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
    site = Website(account_id=account.id, home_url=url, created_at=now, next_probe_at=now)
    session.add(site)
    session.add(
        WebsiteColumn(
            account_id=account.id,
            name="首页",
            url=url,
            kind=ColumnClass.HOME,
            first_level=True,
            created_at=now,
            created_by=actor.user_id,
            next_poll_at=now,
        )
    )
    await session.flush()
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
