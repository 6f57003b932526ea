"""``python -m bot``: run (default), demo, migrate, check, admin add, accounts
import|export|template, audit."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from governance.errors import ConfigurationError

if TYPE_CHECKING:
    from bot.settings import Settings


def english() -> bool:
    """The console's language: English when the locale says so (LANG=en_US.UTF-8), else Chinese."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(name)
        if value:
            return value.lower().startswith("en")
    return False


def _h(zh: str, en: str) -> str:
    return en if english() else zh


_ERRORS = (
    (re.compile(r"argument (\S+): invalid (int|float) value: '(.*)'"), "{0} 应为{1}，当前为“{2}”"),
    (re.compile(r"the following arguments are required: (.*)"), "缺少参数：{0}"),
    (re.compile(r"unrecognized arguments: (.*)"), "无法识别的参数：{0}"),
    (re.compile(r"argument (\S+): invalid choice: '(.*?)'.*"), "{0} 不能是“{1}”"),
    (re.compile(r"argument (\S+): expected one argument"), "{0} 后面需要一个值"),
)
_KINDS = {"int": "整数", "float": "数字"}


class Parser(argparse.ArgumentParser):
    """argparse with its own words in Chinese (help titles, usage, errors) unless LANG=en."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        if not english():
            self._positionals.title = "位置参数"
            self._optionals.title = "选项"
        self.add_argument(
            "-h", "--help", action="help", help=_h("显示本帮助并退出", "show this help and exit")
        )

    def format_usage(self) -> str:
        return self._localised(super().format_usage())

    def format_help(self) -> str:
        return self._localised(super().format_help())

    def _localised(self, text: str) -> str:
        return text if english() else text.replace("usage:", "用法：", 1)

    def error(self, message: str) -> NoReturn:
        if not english():
            for pattern, template in _ERRORS:
                match = pattern.fullmatch(message)
                if match:
                    groups = [_KINDS.get(g, g) for g in match.groups()]
                    message = template.format(*groups)
                    break
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}：参数有误：{message}\n")
        super().error(message)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m bot",
        description=_h("政务新媒体治理机器人", "Government new-media governance bot"),
    )
    sub = parser.add_subparsers(dest="command", title=_h("命令", "commands"), parser_class=Parser)
    sub.add_parser(
        "run",
        help=_h(
            "应用数据库迁移，然后运行长轮询和定时任务（默认）",
            "apply migrations, then run long polling and the scheduler (default)",
        ),
    )
    sub.add_parser("migrate", help=_h("应用数据库迁移后退出", "apply database migrations and exit"))
    check = sub.add_parser(
        "check",
        help=_h(
            "检查文字中的错敏问题（不需要令牌、数据库或网络）",
            "check text for defects (no token, database or network)",
        ),
    )
    check.add_argument(
        "source",
        nargs="?",
        default="-",
        help=_h(
            "文本文件（UTF-8、GB18030/GBK 或 UTF-16），- 表示标准输入",
            "a text file (UTF-8, GB18030/GBK or UTF-16), or - for stdin",
        ),
    )
    check.add_argument(
        "--jsonl",
        action="store_true",
        help=_h(
            '逐行读入 {"id", "text"}，逐行输出问题', 'read {"id", "text"} lines, write findings'
        ),
    )
    accounts = sub.add_parser(
        "accounts",
        help=_h("台账：导入、导出、模板", "the ledger (台账): import, export, template"),
    )
    accounts_sub = accounts.add_subparsers(
        dest="accounts_command", required=True, title=_h("命令", "commands"), parser_class=Parser
    )
    imp = accounts_sub.add_parser(
        "import",
        help=_h(
            "校验并导入 .xlsx 或 .csv 台账；与已登记账号匹配的行先试运行显示变更",
            "validate and import an .xlsx or .csv ledger; rows matching registered accounts "
            "are a dry run showing their changes",
        ),
    )
    imp.add_argument("file", type=Path, help=_h("台账文件", "the ledger file"))
    imp.add_argument(
        "--valid-only", action="store_true", help=_h("只导入有效行", "import the valid rows only")
    )
    imp.add_argument(
        "--apply",
        action="store_true",
        help=_h(
            "确认并应用对已登记账号的修改（先不加此项试运行核对）",
            "apply the changes to registered accounts (dry run without it first)",
        ),
    )
    imp.add_argument(
        "--as",
        dest="as_id",
        type=int,
        help=_h("执行导入的管理员 Telegram ID", "acting admin's Telegram id"),
    )
    imp.add_argument(
        "--bot-username",
        help=_h("按此机器人用户名输出邀请链接", "print invitation links for this bot"),
    )
    exp = accounts_sub.add_parser(
        "export", help=_h("把登记的账号导出为 .xlsx 台账", "write the registry as an .xlsx ledger")
    )
    exp.add_argument("file", type=Path, help=_h("要写入的文件", "the file to write"))
    exp.add_argument("--unit", help=_h("只导出该单位的账号", "only this unit's accounts"))
    tpl = accounts_sub.add_parser(
        "template", help=_h("写出空白台账模板", "write the empty ledger template")
    )
    tpl.add_argument("file", type=Path, help=_h("要写入的文件", "the file to write"))
    audit = sub.add_parser(
        "audit",
        help=_h(
            "逐个抓取台账中的账号并写出报告（不需要令牌和数据库）",
            "poll every account of a ledger once and write the report (no token/DB)",
        ),
    )
    audit.add_argument(
        "file", type=Path, help=_h("台账（.xlsx 或 .csv）", "the ledger (.xlsx or .csv)")
    )
    audit.add_argument(
        "--out",
        type=Path,
        required=True,
        help=_h("要写入的报告工作簿", "the report workbook to write"),
    )
    audit.add_argument(
        "--period",
        default="quarter",
        help=_h(
            "week、month、quarter、year、last_month、last_quarter 或 2026-01-01~2026-03-31",
            "week, month, quarter, year, last_month, last_quarter or 2026-01-01~2026-03-31",
        ),
    )
    audit.add_argument(
        "--inspect", action="store_true", help=_h("加上抽查表", "add the sample inspection sheet")
    )
    audit.add_argument(
        "--seed",
        type=int,
        help=_h("抽查的随机种子（用于复现）", "the inspection's random seed (to repeat a draw)"),
    )
    audit.add_argument(
        "--ratio", type=float, help=_h("抽样比例，0 到 1", "the inspection's sample ratio (0-1]")
    )
    audit.add_argument(
        "--charts",
        type=Path,
        help=_h("同时把图表写成 PNG 文件到此目录", "also write the charts as PNG files here"),
    )
    demo = sub.add_parser(
        "demo",
        help=_h(
            "离线演示：内置的 Bot API、订阅源农场和网页聊天（不需要令牌和网络）",
            "offline demo: embedded Bot API, feed farm and a web chat (no token, no network)",
        ),
    )
    demo.add_argument(
        "--fresh",
        action="store_true",
        help=_h("在临时目录中从头开始", "start over in a temporary directory"),
    )
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("demo"),
        help=_h("数据目录（默认 demo/）", "data directory (default demo/)"),
    )
    demo.add_argument(
        "--port", type=int, default=8765, help=_h("本机端口（默认 8765）", "local port (8765)")
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help=_h(
            "时钟倍速，如 1440 表示一分钟过一天", "clock speed: 1440 makes a day pass in a minute"
        ),
    )
    demo.add_argument(
        "--no-browser",
        action="store_true",
        help=_h("不自动打开浏览器", "do not open a browser"),
    )
    admin = sub.add_parser("admin", help=_h("管理员", "manage admins"))
    admin_sub = admin.add_subparsers(
        dest="admin_command", required=True, title=_h("命令", "commands"), parser_class=Parser
    )
    add = admin_sub.add_parser(
        "add", help=_h("把某个 Telegram 用户设为管理员", "make a Telegram user an admin")
    )
    add.add_argument("telegram_id", type=int, help=_h("Telegram 数字 ID", "numeric Telegram id"))
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
            apply=args.apply,
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


def _demo(args: argparse.Namespace) -> int:
    from bot.demo.run import DemoOptions, run_demo
    from bot.logging import setup_logging

    if not 0 < args.speed <= 100_000 or not 0 <= args.port <= 65535:
        print(
            _h("倍速应在 0 到 100000 之间，端口在 0 到 65535 之间。", "bad --speed or --port"),
            file=sys.stderr,
        )
        return 2
    setup_logging(level=os.environ.get("LOG_LEVEL", "WARNING"), json=False, secrets=[])
    options = DemoOptions(
        directory=args.dir,
        fresh=args.fresh,
        port=args.port,
        speed=args.speed,
        open_browser=not args.no_browser,
    )
    try:
        return asyncio.run(run_demo(options))
    except KeyboardInterrupt:
        return 130


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
    if command == "demo":
        return _demo(args)
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
            from bot.runtime import run_loop

            return run_loop(run(settings), loop=settings.event_loop)
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
