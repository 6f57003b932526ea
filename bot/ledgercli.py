"""``python -m bot accounts import|export|template``: the ledger (台账) without the chat.

Same rules and the same transaction as a file sent to the bot. The import acts as an admin
(``--as`` a Telegram id, default the first of ``ADMIN_IDS``) so that every created row is
audited under a person. Rows matching a registered account (platform + platform id) update it:
without ``--apply`` the import is a dry run that prints each row's changes and files nothing;
with it, everything is filed in one transaction with audit rows. Exit status: 0 done (or dry
run), 1 the file has problems (nothing imported unless ``--valid-only``), 2 the file or the
settings cannot be used.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO

from sqlmodel.ext.asyncio.session import AsyncSession

from bot import db
from bot.settings import Settings
from documents.ledgerbook import ledger_workbook, read_ledger_file, read_named_sheet
from feeds.netguard import feed_url_refusal
from governance.clock import Clock, SystemClock
from governance.errors import ConfigurationError, UserFacingError
from governance.ledger import RowProblem
from governance.ledgerlines import alias_line, update_line
from governance.websiteledger import SHEET_WEBSITES, parse_website_rows
from jobs.polltypes import guard_policy
from models import ledger, people, websites
from models.people import User
from workflows.websites import import_websites


def problem_line(problem: RowProblem) -> str:
    value = problem.value.replace("\n", " ")
    shown = f"（{value[:30]}）" if value else ""
    return f"  第 {problem.row} 行 [{problem.column or '整行'}]{shown}：{problem.error}"


def invite_link(token: str, bot_username: str | None) -> str:
    if bot_username:
        return f"https://t.me/{bot_username.lstrip('@')}?start={token}"
    return f"/start {token}"


def import_file(
    settings: Settings,
    path: Path,
    *,
    valid_only: bool = False,
    as_telegram_id: int | None = None,
    bot_username: str | None = None,
    clock: Clock | None = None,
    out: IO[str] | None = None,
    apply: bool = False,
) -> int:
    """Validate and import a ledger file; print the problems, new units and invitation links."""
    out = out or sys.stdout
    try:
        data = path.read_bytes()
        file = read_ledger_file(data, path.name)
        sites = read_named_sheet(data, SHEET_WEBSITES)
    except OSError as exc:
        print(f"无法读取文件：{exc}", file=out)
        return 2
    except UserFacingError as exc:
        print(str(exc), file=out)
        return 2
    where = f"工作表“{file.sheet}”" if file.sheet is not None else path.name
    print(f"已读取{where}：{file.rows_read} 行（含表头）。", file=out)
    if file.sheets_skipped:
        print(f"隐藏的工作表未读取：{'、'.join(file.sheets_skipped)}。", file=out)
    return asyncio.run(
        _import(
            settings,
            file.rows,
            source=path.name,
            valid_only=valid_only,
            as_telegram_id=as_telegram_id,
            bot_username=bot_username,
            clock=clock or SystemClock(),
            out=out,
            apply=apply,
            sites=sites,
        )
    )


async def _import(
    settings: Settings,
    table: list[list[object]],
    *,
    source: str,
    valid_only: bool,
    as_telegram_id: int | None,
    bot_username: str | None,
    clock: Clock,
    out: IO[str],
    apply: bool = False,
    sites: list[list[object]] | None = None,
) -> int:
    telegram_id = as_telegram_id or (settings.admin_ids[0] if settings.admin_ids else None)
    if telegram_id is None:
        raise ConfigurationError("请用 --as 指定执行导入的管理员 Telegram ID，或配置 ADMIN_IDS。")
    now = clock.now()
    await db.upgrade(settings.database_url)
    engine = db.create_engine(settings.database_url)
    try:
        async with db.make_sessionmaker(engine)() as session:
            if telegram_id in settings.admin_ids:
                await people.bootstrap_admin(session, telegram_id=telegram_id, now=now)
            user = await people.get_user_by_telegram_id(session, telegram_id)
            if user is None:
                print(f"找不到 Telegram ID 为 {telegram_id} 的人员。", file=out)
                return 2
            try:
                result = await ledger.import_ledger(
                    session,
                    actor=await people.actor_for(session, user),
                    table=table,
                    now=now,
                    invite_ttl=timedelta(days=settings.invite_ttl_days),
                    valid_only=valid_only,
                    source=source,
                    feed_guard=partial(feed_url_refusal, policy=guard_policy(settings)),
                    apply_updates=apply,
                )
            except UserFacingError as exc:
                print(str(exc), file=out)
                return 2
            if sites and (result.imported or result.validation.clean):
                await _import_websites(session, user, sites, now=now, out=out)
            await session.commit()
    finally:
        await engine.dispose()
    validation = result.validation
    if validation.problems:
        print(
            f"共 {validation.total} 行，其中 {validation.bad_rows} 行有问题"
            f"（{len(validation.problems)} 处）：",
            file=out,
        )
        for problem in validation.problems:
            print(problem_line(problem), file=out)
    if validation.unchanged:
        print(f"与已有记录相同、已跳过：{len(validation.unchanged)} 行。", file=out)
    if validation.aliases:
        print("以下平台名称已按标准名称读取：", file=out)
        for alias in validation.aliases:
            print(f"  {alias_line(alias)}", file=out)
    if validation.updates:
        verb = "已更新" if result.imported else "将更新"
        print(
            f"{verb}已登记的账号 {len(validation.updates)} 个（按平台和平台账号ID匹配）：", file=out
        )
        for update in validation.updates:
            print(f"  {update_line(update)}", file=out)
    if result.needs_confirmation:
        new = f"，另有新账号 {len(validation.rows)} 个" if validation.rows else ""
        print(f"以上为试运行{new}，未作任何修改；核对无误后加 --apply 重新执行。", file=out)
        return 0
    if not result.imported:
        if validation.problems:
            hint = "；可用 --valid-only 只导入有效行" if validation.rows else ""
            print(f"未导入，未作任何修改{hint}。", file=out)
            return 1
        print("没有需要导入的新账号。", file=out)
        return 0
    print(f"已导入新账号 {len(result.accounts)} 个，更新账号 {len(result.updated)} 个。", file=out)
    if result.units:
        print(
            f"新增单位 {len(result.units)} 个：{'、'.join(u.name for u in result.units)}", file=out
        )
    if result.pending:
        print("尚未加入的责任人（请把邀请链接转发给本人）：", file=out)
        for person in result.pending:
            link = invite_link(person.invitation.token, bot_username)
            print(f"  {person.name}（{person.unit}，{person.accounts} 个账号）：{link}", file=out)
    return 0


async def _import_websites(
    session: AsyncSession, user: User, table: list[list[object]], *, now: datetime, out: IO[str]
) -> None:
    """The 网站 sheet, after the accounts (whose units it may name)."""
    rows, problems = parse_website_rows(table)
    done = await import_websites(
        session, actor=await people.actor_for(session, user), rows=rows, now=now
    )
    print(
        f"网站工作表：新增网站 {done.websites} 个、栏目 {done.columns} 个，"
        f"{done.unchanged} 行与已有记录相同。",
        file=out,
    )
    for problem in [*problems, *done.problems]:
        print(f"  网站第 {problem.row} 行：{problem.error}", file=out)


def export_file(
    settings: Settings, path: Path, *, unit: str | None = None, out: IO[str] | None = None
) -> int:
    """Write the registry (or one unit's accounts) as a ledger workbook."""
    out = out or sys.stdout
    found = asyncio.run(_export_rows(settings, unit))
    if found is None:
        print(f"找不到单位“{unit}”。", file=out)
        return 2
    rows, sites = found
    path.write_bytes(ledger_workbook(rows, websites=sites))
    print(f"已导出 {len(rows)} 个账号、网站工作表 {len(sites)} 行到 {path}。", file=out)
    return 0


async def _export_rows(
    settings: Settings, unit: str | None
) -> tuple[list[tuple[str | int, ...]], list[list[object]]] | None:
    await db.upgrade(settings.database_url)
    engine = db.create_engine(settings.database_url)
    try:
        async with db.make_sessionmaker(engine)() as session:
            unit_id = None
            if unit is not None:
                match = [u for u in await people.list_units(session) if u.name == unit.strip()]
                if not match:
                    return None
                unit_id = match[0].id
            rows = [r.cells() for r in await ledger.ledger_rows(session, unit_id=unit_id)]
            return rows, await websites.ledger_rows(session, unit_id=unit_id)
    finally:
        await engine.dispose()


def template_file(path: Path, *, out: IO[str] | None = None) -> int:
    out = out or sys.stdout
    path.write_bytes(ledger_workbook([]))
    print(f"已写入台账模板 {path}。", file=out)
    return 0
