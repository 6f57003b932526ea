"""``python -m bot``: run (default), migrate, admin add <telegram id>."""

from __future__ import annotations

import argparse
import asyncio
import sys

from governance.errors import ConfigurationError


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
    from bot.logging import setup_logging
    from bot.settings import load_settings

    try:
        settings = load_settings()
        token = settings.bot_token.get_secret_value() if settings.bot_token else ""
        setup_logging(level=settings.log_level, json=settings.log_json, secrets=[token])
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
        else:
            settings.require_token()
            from bot.app import run

            asyncio.run(run(settings))
    except ConfigurationError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
