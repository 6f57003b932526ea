"""``python -m bot run`` as a real process: migrates, answers over the Bot API, stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes.telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


async def _bot_process(tmp_path: Path, **values: str) -> asyncio.subprocess.Process:
    """``python -m bot run`` with only these settings (and the token) in its environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DATABASE_", "REDIS_"))}
    env.update(PYTHONPATH=str(ROOT), BOT_TOKEN=TOKEN, FEED_PARSE_WORKERS="0", **values)
    return await asyncio.create_subprocess_exec(
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


async def _stop(proc: asyncio.subprocess.Process) -> str:
    """SIGTERM, then its whole output once it has exited cleanly."""
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = out.decode()
    assert proc.returncode == 0, log[-2000:]
    return log


async def test_bot_process_answers_and_stops_cleanly_on_sigterm(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    proc = await _bot_process(
        tmp_path,
        ADMIN_IDS="1001",
        TELEGRAM_API_BASE=tg.base,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db",
        POLLING_TIMEOUT="1",
    )
    try:
        await tg.wait_for(lambda c: c.method == "getMe", timeout=60)
        replies = await tg.user(1001, "王主任").send("/start")
        assert "管理员" in replies[-1].text
    finally:
        log = await _stop(proc)
    assert "bot stopped" in log
    assert "event loop uvloop" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    assert (tmp_path / "bot.db").exists()


@pytest.mark.both_backends  # PostgreSQL only: the SQLite variant skips
async def test_a_jobs_replica_process_gives_the_chat_the_cpu_first(
    database_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a jobs-only replica shares PostgreSQL with the chat replicas")
    proc = await _bot_process(
        tmp_path,
        TELEGRAM_API_BASE=tg.base,
        DATABASE_URL=database_url,
        REPLICA_DUTIES="jobs",
        JOBS_NICE="7",
    )
    try:
        await tg.wait_for(lambda c: c.method == "getMe", timeout=60)
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, proc.pid) == min(19, ours + 7)
    finally:
        await _stop(proc)
