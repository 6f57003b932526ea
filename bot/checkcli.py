"""``python -m bot check``: the content checker for people without the bot.

Needs no token, database or network: it reads text (a file or standard input), runs the pure
checker and prints findings, either readably or as JSON lines for batch use.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import IO, Any

from governance.quality import Checker, Finding, build_checker
from governance.vocabulary import category_label, severity_label


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "category": finding.category,
        "severity": finding.severity,
        "start": finding.start,
        "end": finding.end,
        "text": finding.text,
        "suggestion": finding.suggestion,
        "rule": finding.rule,
    }


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def render_readable(text: str, findings: list[Finding]) -> str:
    if not findings:
        return "未发现问题。"
    lines = [f"发现 {len(findings)} 处问题："]
    for f in findings:
        line, col = _line_col(text, f.start)
        hint = f" → 建议：{f.suggestion}" if f.suggestion else ""
        lines.append(
            f"  第{line}行第{col}列 [{severity_label(f.severity)}] "
            f"{category_label(f.category)}：「{f.text}」{hint}（{f.rule}）"
        )
    return "\n".join(lines)


def check_jsonl(checker: Checker, lines: Iterable[str], out: IO[str]) -> int:
    """One output line per input line; a malformed line gets an ``error`` instead of findings."""
    bad = 0
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        item: Any = None
        try:
            item = json.loads(raw)
            text = item["text"]
            if not isinstance(text, str):
                raise TypeError("text must be a string")
        except (ValueError, KeyError, TypeError) as exc:
            bad += 1
            ident = item.get("id") if isinstance(item, dict) else None
            out.write(
                json.dumps({"id": ident, "line": number, "error": str(exc)}, ensure_ascii=False)
                + "\n"
            )
            continue
        findings = [finding_dict(f) for f in checker.check_text(text)]
        out.write(
            json.dumps({"id": item.get("id"), "findings": findings}, ensure_ascii=False) + "\n"
        )
    return bad


def main(source: str, *, jsonl: bool, out: IO[str] = sys.stdout) -> int:
    """Exit status: 0 clean, 1 findings (readable mode), 2 unreadable input lines."""
    checker = build_checker()
    handle: IO[str] = sys.stdin if source == "-" else open(source, encoding="utf-8")  # noqa: SIM115
    try:
        if jsonl:
            return 2 if check_jsonl(checker, handle, out) else 0
        text = handle.read()
    finally:
        if handle is not sys.stdin:
            handle.close()
    findings = checker.check_text(text)
    out.write(render_readable(text, findings) + "\n")
    return 1 if findings else 0
