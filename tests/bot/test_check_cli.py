"""``python -m bot check`` works without token, database or network."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


# ---- issue 12: robust input -------------------------------------------------------------

DRAFT = "第一行正常。\n截止目前已完成。身份证号110101199003071233\n"


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be"]
)
def test_files_in_any_chinese_encoding_are_checked(tmp_path: Path, encoding: str) -> None:
    source = tmp_path / "draft.txt"
    source.write_bytes(DRAFT.encode(encoding))
    result = _run(str(source), cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "第2行第1列" in result.stdout and "截至目前" in result.stdout


def test_standard_input_in_gbk_is_checked_too(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "-"],
        input=DRAFT.encode("gbk"),
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "截至目前" in result.stdout.decode("utf-8")


@pytest.mark.parametrize(
    "payload",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
        bytes(range(256)) * 16,
        b"PK\x03\x04" + b"\x00\xff\xfe" * 500,
    ],
    ids=["png", "bytes", "zip"],
)
def test_binary_input_is_a_one_line_error_with_its_own_exit_status(
    tmp_path: Path, payload: bytes
) -> None:
    source = tmp_path / "image.bin"
    source.write_bytes(payload)
    result = _run(str(source), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and "二进制" in result.stderr


def test_readable_output_masks_personal_data(tmp_path: Path) -> None:
    source = tmp_path / "draft.txt"
    source.write_text(DRAFT, encoding="utf-8")
    result = _run(str(source), cwd=tmp_path)
    assert "110101199003071233" not in result.stdout
    assert "11*************233" in result.stdout


def test_a_text_over_the_cap_is_refused_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import checkcli

    monkeypatch.setattr(checkcli, "MAX_TEXT_CHARS", 1000)
    source = tmp_path / "big.txt"
    source.write_text("全年完成投资3.2亿元。" * 500, encoding="utf-8")
    out = io.StringIO()
    assert checkcli.main(str(source), jsonl=False, out=out) == 2
    assert out.getvalue() == ""
    assert "输入过大" in capsys.readouterr().err


def test_line_numbers_hold_across_the_pieces_a_long_text_is_checked_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot import checkcli

    monkeypatch.setattr(checkcli, "PIECE_CHARS", 50)
    text = "今天天气很好。\n" * 40 + "截止目前已完成。\n" + "天" * 120 + "截止目前\n"
    out = io.StringIO()
    assert checkcli.check_readable(checkcli.build_checker(), text, out) == 1
    lines = out.getvalue().splitlines()
    assert "第41行第1列" in lines[1]
    assert "第42行第121列" in lines[2]


def test_checking_time_grows_linearly_with_the_input() -> None:
    from bot import checkcli

    checker = checkcli.build_checker()
    para = "截止目前全年完成投资3.2亿元，营商情况不断改善，联系电话13812345678。\n"

    def cost(copies: int) -> float:
        text = para * copies
        best = float("inf")
        for _ in range(3):
            start = time.process_time()  # CPU time: a loaded machine does not skew the ratio
            checkcli.check_readable(checker, text, io.StringIO())
            best = min(best, time.process_time() - start)
        return best

    small, large = cost(3_000), cost(12_000)
    assert large < small * 4 * 2.0, (small, large)  # 4x input: linear with slack, not quadratic


def test_jsonl_answers_each_line_before_the_input_ends(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "check", "--jsonl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps({"id": 1, "text": "截止目前"}, ensure_ascii=False).encode())
        proc.stdin.write(b"\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())  # answered while stdin is still open
        assert first["id"] == 1 and first["findings"][0]["suggestion"] == "截至目前"
        proc.stdin.write(b'{"id": 2, "text": "ok"}\n')
        proc.stdin.close()
        assert json.loads(proc.stdout.readline()) == {"id": 2, "findings": []}
        assert proc.wait(timeout=60) == 0
