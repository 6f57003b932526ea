"""``python -m bot accounts import|export|template``: the ledger without the chat."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from documents.ledgerbook import ledger_workbook
from governance.ledger import HEADERS

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "1001"
NECESSITY = "发布教育政策和招生信息，回应家长关切。"
PLAN = "每周三条：政策解读、招生通知、校园动态；办公室编辑，分管领导审核。"


def _run(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN"}}
    env.update(
        PYTHONPATH=str(ROOT), DATABASE_URL=database_url, ADMIN_IDS=ADMIN, LOG_LEVEL="WARNING"
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "accounts", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


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
    assert "已导入账号 1 个。" in run.stdout and "新增单位 1 个：某街道办" in run.stdout
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
