"""A missing or malformed setting stops start-up with one clear line naming it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import load_settings
from governance.errors import ConfigurationError
from tests.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BOT_", "ADMIN_", "DATABASE_", "TIMEZONE", "LOG_"))
    }
    env.update(values)
    return env


def test_defaults_are_sqlite_under_data_and_shanghai_time(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TIMEZONE", "ADMIN_IDS", "BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert str(settings.tz) == "Asia/Shanghai"
    assert settings.admin_ids == []


def test_admin_ids_accept_commas_and_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "11, 22 33")
    assert load_settings(_env_file=None).admin_ids == [11, 22, 33]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "alice"),
        ("TIMEZONE", "Mars/Olympus"),
        ("BOT_TOKEN", "not-a-token"),
        ("DATABASE_URL", "mysql://x"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_BASE", "ftp://x"),
    ],
)
def test_malformed_setting_names_itself_and_how_to_fix(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_env_file=None)
    line = str(caught.value)
    assert "\n" not in line and name in line and "配置错误" in line


def test_run_without_token_exits_with_one_line(tmp_path: Path) -> None:
    result = run_cli("run", cwd=tmp_path, env=_env(PYTHONPATH=str(ROOT)))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "BOT_TOKEN" in result.stderr


def test_migrate_and_admin_add_work_from_the_command_line(tmp_path: Path) -> None:
    env = _env(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/cli.db")
    migrate = run_cli("migrate", cwd=tmp_path, env=env)
    assert migrate.returncode == 0, migrate.stderr
    first = run_cli("admin", "add", "4242", cwd=tmp_path, env=env)
    again = run_cli("admin", "add", "4242", cwd=tmp_path, env=env)
    assert "已将 4242 设为管理员" in first.stdout and "已是管理员" in again.stdout


def test_case_calendar_and_digest_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    monkeypatch.setenv("HOLIDAYS", "2026-10-01, 2026-10-02")
    monkeypatch.setenv("EXTRA_WORKDAYS", "2026-10-10")
    monkeypatch.setenv("WEEKEND_DAYS", "7")
    monkeypatch.setenv("DIGEST_TIME", "8:05")
    monkeypatch.setenv("WEEKLY_DIGEST_DAY", "Friday")
    settings = load_settings(_env_file=None)
    policy = settings.case_policy()
    assert policy.calendar.holidays == {date(2026, 10, 1), date(2026, 10, 2)}
    assert policy.calendar.workdays == {date(2026, 10, 10)}
    assert policy.calendar.weekend == {7} and policy.deadline_days == 5
    assert settings.digest_hour_minute == (8, 5) and settings.weekly_digest_day == "fri"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOLIDAYS", "2026-02-30"),
        ("WEEKEND_DAYS", "1,2,3,4,5,6,7"),
        ("DIGEST_TIME", "25:00"),
        ("WEEKLY_DIGEST_DAY", "someday"),
        ("CASE_DEADLINE_DAYS", "0"),
    ],
)
def test_bad_case_and_digest_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        load_settings(_env_file=None)
