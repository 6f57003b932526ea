"""``python -m bot accounts import|export|template``: the ledger without the chat."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from documents.ledgerbook import ledger_workbook
from governance.ledgertable import HEADERS
from tests.cli import CliResult, run_cli

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "1001"
NECESSITY = "发布教育政策和招生信息，回应家长关切。"
PLAN = "每周三条：政策解读、招生通知、校园动态；办公室编辑，分管领导审核。"


def _run(database_url: str, *args: str, cwd: Path) -> CliResult:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN"}}
    env.update(
        PYTHONPATH=str(ROOT), DATABASE_URL=database_url, ADMIN_IDS=ADMIN, LOG_LEVEL="WARNING"
    )
    return run_cli("accounts", *args, env=env, cwd=cwd)


def _cells(path: Path) -> list[list[object]]:
    book = load_workbook(io.BytesIO(path.read_bytes()))
    return [[c.value for c in row] for row in book["台账"].iter_rows()]


def line(unit: str, platform: str, name: str, ref: str, person: str, per_week: object = 3) -> list:
    return [unit, platform, name, ref, person, per_week, NECESSITY, PLAN, "", "", "在用", ""]


def test_template(tmp_path: Path) -> None:
    run = _run("mysql://not-used", "template", "模板.xlsx", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert _cells(tmp_path / "模板.xlsx") == [list(HEADERS)]


def test_import_refuses_a_file_with_problems_then_imports_valid_rows_and_exports(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "台账.xlsx"
    source.write_bytes(
        ledger_workbook(
            [
                line("某街道办", "微博", "街道微博", "jd_wb", "王五"),
                line("某街道办", "推特", "街道推特", "jd_tw", "王五"),
            ]
        )
    )
    run = _run(database_url, "import", str(source), cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "第 3 行 [平台]（推特）：无法识别的平台“推特”" in run.stdout
    assert "未导入，未作任何修改；可用 --valid-only 只导入有效行。" in run.stdout

    empty = tmp_path / "空.xlsx"
    assert _run(database_url, "export", str(empty), cwd=tmp_path).returncode == 0
    assert _cells(empty) == [list(HEADERS)]

    run = _run(
        database_url,
        "import",
        str(source),
        "--valid-only",
        "--bot-username",
        "gov_bot",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "已导入新账号 1 个，更新账号 0 个。" in run.stdout
    assert "新增单位 1 个：某街道办" in run.stdout
    assert "王五（某街道办，1 个账号）：https://t.me/gov_bot?start=" in run.stdout

    exported = tmp_path / "导出.xlsx"
    run = _run(database_url, "export", str(exported), "--unit", "某街道办", cwd=tmp_path)
    assert run.returncode == 0 and "已导出 1 个账号" in run.stdout
    assert _cells(exported) == _cells(source)[:2]

    run = _run(database_url, "import", str(exported), cwd=tmp_path)
    assert run.returncode == 0 and "没有需要导入的新账号" in run.stdout


def test_import_needs_an_admin_and_a_readable_file(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "台账.xlsx"
    source.write_bytes(ledger_workbook([line("某街道办", "微博", "街道微博", "jd_wb", "王五")]))
    run = _run(database_url, "import", str(source), "--as", "424242", cwd=tmp_path)
    assert run.returncode == 2 and "找不到 Telegram ID 为 424242 的人员" in run.stdout
    broken = tmp_path / "坏.xlsx"
    broken.write_bytes(b"PK\x03\x04nope")
    run = _run(database_url, "import", str(broken), cwd=tmp_path)
    assert run.returncode == 2 and "文件可能已损坏" in run.stdout


def test_an_edited_ledger_is_a_dry_run_until_apply(database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "台账.xlsx"
    source.write_bytes(ledger_workbook([line("某街道办", "微博", "街道微博", "jd_wb", "王五")]))
    assert _run(database_url, "import", str(source), cwd=tmp_path).returncode == 0
    edited = tmp_path / "修改后.xlsx"
    edited.write_bytes(
        ledger_workbook([line("某街道办", "新浪微博", "街道微博", "jd_wb", "王五", 5)])
    )
    dry = _run(database_url, "import", str(edited), cwd=tmp_path)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "第 2 行 “新浪微博” → 微博" in dry.stdout  # the alias, said out loud
    assert "将更新已登记的账号 1 个" in dry.stdout
    assert "第 2 行 街道微博（微博 jd_wb）：每周计划发布条数 3 → 5" in dry.stdout
    assert "未作任何修改；核对无误后加 --apply 重新执行" in dry.stdout
    applied = _run(database_url, "import", str(edited), "--apply", cwd=tmp_path)
    assert applied.returncode == 0 and "已更新已登记的账号 1 个" in applied.stdout
    exported = tmp_path / "导出.xlsx"
    assert _run(database_url, "export", str(exported), cwd=tmp_path).returncode == 0
    assert _cells(exported)[1][5] == 5


def test_cli_help_is_chinese_and_english_with_lang_en(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"LC_ALL", "LC_MESSAGES", "LANGUAGE"}}
    env.update(PYTHONPATH=str(ROOT))

    def run(lang: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env={**env, "LANG": lang},
            capture_output=True,
            text=True,
            timeout=60,
        )

    chinese = run("zh_CN.UTF-8", "accounts", "import", "--help")
    assert "用法：" in chinese.stdout and "确认并应用对已登记账号的修改" in chinese.stdout
    english = run("en_US.UTF-8", "accounts", "import", "--help")
    assert "usage:" in english.stdout and "apply the changes" in english.stdout
    bad = run("zh_CN.UTF-8", "admin", "add", "abc")
    assert bad.returncode == 2 and "telegram_id 应为整数，当前为“abc”" in bad.stderr
    assert "invalid int value" not in bad.stderr
