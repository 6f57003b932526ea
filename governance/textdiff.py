"""The difference between two versions of a draft, for approvers to see what changed."""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Literal

Op = Literal["same", "added", "removed"]


def diff(old: str, new: str) -> list[tuple[Op, str]]:
    """Character-level changes (Chinese has no spaces to split words on), merged into runs."""
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    out: list[tuple[Op, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("same", old[i1:i2]))
            continue
        if i2 > i1:
            out.append(("removed", old[i1:i2]))
        if j2 > j1:
            out.append(("added", new[j1:j2]))
    return out


def changed(ops: list[tuple[Op, str]]) -> bool:
    return any(op != "same" for op, _ in ops)


def compact(ops: list[tuple[Op, str]], *, context: int = 10) -> list[tuple[Op, str]]:
    """Long unchanged runs shortened to their ends, so a message shows only what changed."""
    out: list[tuple[Op, str]] = []
    for index, (op, text) in enumerate(ops):
        if op == "same" and len(text) > 2 * context + 1:
            head = text[:context] if index > 0 else ""
            tail = text[-context:] if index < len(ops) - 1 else ""
            text = f"{head}…{tail}"
        out.append((op, text))
    return out
