"""The automatic pre-check of a draft before it is routed (送审前自动预检).

One interface, :func:`precheck`, so the content checks of later issues plug in through the
checker they pass; the draft-level checks (empty, over-long) live here. Findings use the
checker's :class:`~governance.quality.Finding`, spans pointing into the text checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from governance.i18n import N_
from governance.quality import Checker, Finding

DRAFT_MAX_CHARS = 20_000

CATEGORY_LABELS: dict[str, str] = {
    "empty": N_("稿件为空"),
    "too_long": N_("稿件过长"),
    "pii": N_("个人信息"),
    "gambling": N_("涉赌"),
    "porn": N_("涉黄"),
    "wording": N_("严重表述错误"),
    "typo": N_("错别字"),
    "placeholder": N_("未替换的占位符"),
    "ad": N_("广告或页面残留"),
    "hidden_link": N_("隐藏链接"),
    "dead_link": N_("失效链接"),
}

SEVERITY_ORDER = {"veto": 0, "serious": 1, "general": 2}


def checked_text(title: str, body: str) -> str:
    """The one text the pre-check reads and its spans point into: title, blank line, body."""
    return f"{title}\n\n{body}" if title else body


def precheck(
    text: str, *, checker: Checker, has_media: bool = False, max_chars: int = DRAFT_MAX_CHARS
) -> list[Finding]:
    """Every finding for a draft, most severe first; an empty draft is one finding."""
    if not text.strip() and not has_media:
        return [Finding("empty", "veto", 0, 0, "", None, "draft.empty")]
    found: list[Finding] = []
    if len(text) > max_chars:
        found.append(
            Finding("too_long", "serious", max_chars, len(text), "", str(max_chars), "draft.long")
        )
    found += checker.check_text(text[: max_chars * 2])
    return sorted(found, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.start))


def blocking(findings: list[Finding]) -> bool:
    """Only an empty draft cannot be submitted; everything else may go with the findings."""
    return any(f.category == "empty" for f in findings)


@dataclass(frozen=True, slots=True)
class Snippet:
    """A finding shown in its context: ``before`` + ``hit`` + ``after`` (hit masked if PII)."""

    category: str
    severity: str
    before: str
    hit: str
    after: str
    suggestion: str | None


def shown(finding: Finding) -> str:
    """What may be displayed of the matched text: personal data only masked (138****1234)."""
    if finding.category == "pii":
        return finding.suggestion or "*" * len(finding.text)
    return finding.text


def snippets(text: str, findings: list[Finding], *, context: int = 12) -> list[Snippet]:
    out = []
    for f in findings:
        before = text[max(0, f.start - context) : f.start].replace("\n", " ")
        after = text[f.end : f.end + context].replace("\n", " ")
        suggestion = None if f.category == "pii" else f.suggestion
        out.append(Snippet(f.category, f.severity, before, shown(f), after, suggestion))
    return out


def to_json(findings: list[Finding]) -> list[dict[str, Any]]:
    """Stored with the version. Personal data is never stored in clear: only the mask."""
    return [
        {
            "category": f.category,
            "severity": f.severity,
            "start": f.start,
            "end": f.end,
            "text": shown(f),
            "suggestion": None if f.category == "pii" else f.suggestion,
            "rule": f.rule,
        }
        for f in findings
    ]
