"""``python -m bot run`` as a real process: migrates, answers over the Bot API, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


async def test_bot_process_answers_and_stops_cleanly_on_sigterm(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "REDIS_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        BOT_TOKEN=TOKEN,
        ADMIN_IDS="1001",
        TELEGRAM_API_BASE=tg.base,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        POLLING_TIMEOUT="1",
        FEED_PARSE_WORKERS="0",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await tg.wait_for(lambda c: c.method == "getMe", timeout=60)
        replies = await tg.user(1001, "王主任").send("/start")
        assert "管理员" in replies[-1].text
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = out.decode()
    assert proc.returncode == 0, log[-2000:]
    assert "bot stopped" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert (tmp_path / "bot.db").exists()
