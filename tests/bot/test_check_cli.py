"""``python -m bot check`` works without token, database or network."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli import CliResult, run_cli

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = {
    "typo",
    "wording",
    "gambling",
    "porn",
    "hidden_link",
    "pii",
    "placeholder",
    "ad",
    "dead_link",
}


def _run(*args: str, stdin: str = "", cwd: Path) -> CliResult:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "DATABASE_URL"}}
    env["PYTHONPATH"] = str(ROOT)
    env["DATABASE_URL"] = "mysql://must-not-be-used"  # the checker must not even read settings
    return run_cli("check", *args, env=env, cwd=cwd, stdin=stdin)


def test_jsonl_in_findings_out_one_line_per_input(tmp_path: Path) -> None:
    lines = [
        {"id": "a", "text": "我局将再接再励，身份证号110101199003071233。"},
        {"id": 7, "text": "今天天气很好，市民有序出行。"},
    ]
    result = _run(
        "--jsonl",
        stdin="\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", 7]
    first = out[0]["findings"]
    assert {f["category"] for f in first} == {"typo", "pii"}
    for f in first:
        assert set(f) == {"category", "severity", "start", "end", "text", "suggestion", "rule"}
        assert f["category"] in CATEGORIES
        assert lines[0]["text"][f["start"] : f["end"]] == f["text"]
    pii = next(f for f in first if f["category"] == "pii")
    assert pii["severity"] == "veto" and pii["suggestion"] == "11*************233"
    assert out[1]["findings"] == []


def test_malformed_jsonl_lines_get_an_error_and_a_nonzero_exit(tmp_path: Path) -> None:
    result = _run("--jsonl", stdin='{"id": 1, "text": "好"}\nnot json\n{"id": 3}\n', cwd=tmp_path)
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 2
    assert out[0] == {"id": 1, "findings": []}
    assert out[1]["id"] is None and "error" in out[1]
    assert out[2]["id"] == 3 and "error" in out[2]


def test_readable_output_names_line_category_and_suggestion(tmp_path: Path) -> None:
    source = tmp_path / "draft.txt"
    source.write_text("第一行正常。\n截止目前已完成。\n", encoding="utf-8")
    result = _run(str(source), cwd=tmp_path)
    assert result.returncode == 1
    assert "第2行第1列" in result.stdout and "截至目前" in result.stdout
    assert _run(str(tmp_path / "missing.txt"), cwd=tmp_path).returncode == 2
