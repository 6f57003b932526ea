"""``python -m bot`` as an operator meets it: each start-up problem is one clear Chinese line.

Real processes against the fake Bot API (answering 401, redirecting) or against closed local
ports (nothing listening); the token and every password stay out of everything printed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.fakes.telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
OTHER_TOKEN = "123456789:AAE-rejected-token-0123456789abcdef"


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "DATABASE_", "REDIS_", "TELEGRAM_", "WEBHOOK_", "MIGRATE_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        ADMIN_IDS="1001",
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        POLLING_TIMEOUT="1",
        FEED_PARSE_WORKERS="0",
    )
    env.update(values)
    return env


async def _start(tmp_path: Path, **values: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=_env(tmp_path, **values),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _finish(proc: asyncio.subprocess.Process) -> str:
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return out.decode()


def _assert_clean(output: str, *secrets: str) -> None:
    assert "Traceback" not in output, output
    for secret in (TOKEN, TOKEN.split(":")[1], OTHER_TOKEN.split(":")[1], *secrets):
        assert secret not in output, output


def _the_line(output: str, needle: str) -> str:
    lines = [line for line in output.splitlines() if needle in line]
    assert len(lines) == 1, output
    return lines[0]


async def test_a_rejected_token_stops_start_up_with_one_line_pointing_to_botfather(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    proc = await _start(tmp_path, BOT_TOKEN=OTHER_TOKEN, TELEGRAM_API_BASE=tg.base)
    output = await _finish(proc)

    assert proc.returncode == 2
    line = _the_line(output, "Telegram 拒绝了机器人令牌")
    assert "@BotFather" in line and tg.base in line
    _assert_clean(output)


async def test_an_unreachable_api_is_retried_naming_the_proxy_without_its_password(
    tmp_path: Path,
) -> None:
    api = f"http://127.0.0.1:{closed_port()}"
    proxy_port = closed_port()
    proc = await _start(
        tmp_path,
        TELEGRAM_API_BASE=api,
        TELEGRAM_PROXY=f"socks5://office:pr0xy-pass@127.0.0.1:{proxy_port}",
        STARTUP_RETRY_MAX_SECONDS="1",
    )
    assert proc.stdout is not None
    retries: list[str] = []
    while len(retries) < 2:  # it keeps trying instead of exiting
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert line, "the process exited instead of retrying"
        if "无法连接 Telegram Bot API" in line:
            retries.append(line)
    proc.send_signal(signal.SIGTERM)
    output = "".join(retries) + await _finish(proc)

    assert proc.returncode == 0
    assert api in retries[0]
    assert f"socks5://office:***@127.0.0.1:{proxy_port}" in retries[0]
    assert "重试" in retries[0]
    _assert_clean(output, "pr0xy-pass")


async def test_a_redirecting_bot_api_ends_start_up_with_one_line_and_no_token(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.redirect_to = f"{tg.base}/moved"
    proc = await _start(tmp_path, TELEGRAM_API_BASE=tg.base)
    output = await _finish(proc)

    assert proc.returncode == 1
    assert tg.base in _the_line(output, "的应答无法识别")
    _assert_clean(output)


async def test_an_unreachable_database_stops_start_up_with_one_line_without_its_password(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    url = f"postgresql+asyncpg://bot:db-pass-123@127.0.0.1:{closed_port()}/govmedia"
    proc = await _start(tmp_path, TELEGRAM_API_BASE=tg.base, DATABASE_URL=url)
    output = await _finish(proc)

    assert proc.returncode == 3
    line = _the_line(output, "无法连接数据库")
    assert "DATABASE_URL" in line
    _assert_clean(output, "db-pass-123")
    assert not tg.calls  # nothing reached Telegram before the database was known good


async def test_a_database_behind_the_code_is_refused_when_migrating_on_start_is_off(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    proc = await _start(tmp_path, TELEGRAM_API_BASE=tg.base, MIGRATE_ON_START="false")
    output = await _finish(proc)

    assert proc.returncode == 4
    line = _the_line(output, "数据库结构不是最新版本")
    assert "python -m bot migrate" in line
    _assert_clean(output)
