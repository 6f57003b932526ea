"""``python -m bot``: run (default), migrate, check, admin add, accounts import|export|template,
audit."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from governance.errors import ConfigurationError

if TYPE_CHECKING:
    from bot.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="政务新媒体治理机器人")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "run", help="apply migrations, then run long polling and the scheduler (default)"
    )
    sub.add_parser("migrate", help="apply database migrations and exit")
    check = sub.add_parser("check", help="check text for defects (no token, database or network)")
    check.add_argument("source", nargs="?", default="-", help="a UTF-8 text file, or - for stdin")
    check.add_argument(
        "--jsonl", action="store_true", help='read {"id", "text"} lines, write findings'
    )
    accounts = sub.add_parser("accounts", help="the ledger (台账): import, export, template")
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True)
    imp = accounts_sub.add_parser("import", help="validate and import an .xlsx or .csv ledger")
    imp.add_argument("file", type=Path)
    imp.add_argument("--valid-only", action="store_true", help="import the valid rows only")
    imp.add_argument("--as", dest="as_id", type=int, help="acting admin's Telegram id")
    imp.add_argument("--bot-username", help="print invitation links for this bot")
    exp = accounts_sub.add_parser("export", help="write the registry as an .xlsx ledger")
    exp.add_argument("file", type=Path)
    exp.add_argument("--unit", help="only this unit's accounts")
    tpl = accounts_sub.add_parser("template", help="write the empty ledger template")
    tpl.add_argument("file", type=Path)
    audit = sub.add_parser(
        "audit", help="poll every account of a ledger once and write the report (no token/DB)"
    )
    audit.add_argument("file", type=Path, help="the ledger (.xlsx or .csv)")
    audit.add_argument("--out", type=Path, required=True, help="the report workbook to write")
    audit.add_argument(
        "--period",
        default="quarter",
        help="week, month, quarter, year, last_month, last_quarter or 2026-01-01~2026-03-31",
    )
    audit.add_argument("--inspect", action="store_true", help="add the sample inspection sheet")
    audit.add_argument("--seed", type=int, help="the inspection's random seed (to repeat a draw)")
    audit.add_argument("--ratio", type=float, help="the inspection's sample ratio (0-1]")
    audit.add_argument("--charts", type=Path, help="also write the charts as PNG files here")
    admin = sub.add_parser("admin", help="manage admins")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    add = admin_sub.add_parser("add", help="make a Telegram user an admin")
    add.add_argument("telegram_id", type=int)
    return parser


async def _admin_add(database_url: str, telegram_id: int) -> bool:
    from bot import db
    from governance.clock import SystemClock
    from models import people

    await db.upgrade(database_url)
    engine = db.create_engine(database_url)
    try:
        async with db.make_sessionmaker(engine)() as session:
            _user, granted = await people.bootstrap_admin(
                session, telegram_id=telegram_id, now=SystemClock().now()
            )
            await session.commit()
            return granted
    finally:
        await engine.dispose()


def _accounts(settings: Settings, args: argparse.Namespace) -> int:
    from bot import ledgercli

    if args.accounts_command == "import":
        return ledgercli.import_file(
            settings,
            args.file,
            valid_only=args.valid_only,
            as_telegram_id=args.as_id,
            bot_username=args.bot_username,
        )
    return ledgercli.export_file(settings, args.file, unit=args.unit)


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    from bot.reportcli import AuditOptions, audit_file

    if args.ratio is not None and not 0 < args.ratio <= 1:
        print("抽样比例应在 0 到 1 之间（如 0.3）。", file=sys.stderr)
        return 2
    options = AuditOptions(
        period=args.period,
        inspect=args.inspect or args.seed is not None,
        seed=args.seed,
        ratio=args.ratio,
        charts=args.charts,
    )
    return audit_file(settings, args.file, args.out, options=options)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "check":
        from bot.checkcli import main as check_main

        try:
            return check_main(args.source, jsonl=args.jsonl)
        except OSError as exc:
            print(f"无法读取输入：{exc}", file=sys.stderr)
            return 2
    if command == "accounts" and args.accounts_command == "template":
        from bot.ledgercli import template_file

        return template_file(args.file)
    from bot.logging import setup_logging
    from bot.settings import load_settings

    try:
        settings = load_settings()
        setup_logging(level=settings.log_level, json=settings.log_json, secrets=settings.secrets())
        if command == "migrate":
            from bot import db

            db.upgrade_sync(settings.database_url)
            print("数据库已迁移到最新版本。")
        elif command == "admin":
            granted = asyncio.run(_admin_add(settings.database_url, args.telegram_id))
            print(
                f"已将 {args.telegram_id} 设为管理员。"
                if granted
                else f"{args.telegram_id} 已是管理员。"
            )
        elif command == "accounts":
            return _accounts(settings, args)
        elif command == "audit":
            return _audit(settings, args)
        else:
            settings.require_token()
            from bot.app import run

            return asyncio.run(run(settings))
    except ConfigurationError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # One line for the operator; the traceback only in the redacted log (LOG_LEVEL=DEBUG).
        from loguru import logger

        logger.opt(exception=exc).debug("unexpected failure")
        print(
            f"运行失败：意外错误（{type(exc).__name__}）。"
            "设置 LOG_LEVEL=DEBUG 后重试，可在日志中查看详情。",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
