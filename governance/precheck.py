"""The automatic pre-check of a draft before it is routed (送审前自动预检).

One interface, :func:`precheck`, so the content checks of later issues plug in through the
checker they pass; the draft-level checks (empty, over-long) live here. Findings use the
checker's :class:`~governance.quality.Finding`, spans pointing into the text checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from governance.drafttext import Composed, Place
from governance.quality import Checker, Finding
from governance.vocabulary import Category, Severity

DRAFT_MAX_CHARS = 20_000


def checked_text(title: str, body: str) -> str:
    """The one text the pre-check reads and its spans point into: title, blank line, body."""
    return f"{title}\n\n{body}" if title else body


def precheck(
    text: str,
    *,
    checker: Checker,
    has_media: bool = False,
    max_chars: int = DRAFT_MAX_CHARS,
    extra: Sequence[Finding] = (),
) -> list[Finding]:
    """Every finding for a draft, most severe first; an empty draft is one finding. ``extra``:
    findings made before the text checks (documents that could not be read)."""
    if not text.strip() and not has_media:
        return [Finding(Category.EMPTY, Severity.VETO, 0, 0, "", None, "draft.empty")]
    found: list[Finding] = list(extra)
    if len(text) > max_chars:
        found.append(
            Finding(
                Category.TOO_LONG,
                Severity.SERIOUS,
                max_chars,
                len(text),
                "",
                str(max_chars),
                "draft.long",
            )
        )
    found += checker.check_text(text[: max_chars * 2])
    # a document nobody could check comes first: it says what the rest of the list leaves out
    return sorted(
        found, key=lambda f: (f.category != Category.UNREADABLE, f.severity.rank, f.start)
    )


def unread_findings(composed: Composed, *, offset: int) -> list[Finding]:
    """One finding per document the pre-check could not read: honest, never a pass."""
    return [
        Finding(
            Category.UNREADABLE,
            Severity.SERIOUS,
            u.start + offset,
            u.end + offset,
            composed.body[u.start : u.end],
            u.pages or None,
            u.rule,
        )
        for u in composed.unread
    ]


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


def snippets(text: str, findings: list[Finding], *, context: int = 12) -> list[Snippet]:
    out = []
    for f in findings:
        # the context stays in the hit's own paragraph, message or document part
        before = text[max(0, f.start - context) : f.start].rsplit("\n\n", 1)[-1]
        after = text[f.end : f.end + context].split("\n\n", 1)[0]
        before, after = before.replace("\n", " "), after.replace("\n", " ")
        out.append(Snippet(f.category, f.severity, before, f.shown, after, f.advice))
    return out


def to_json(findings: list[Finding], places: Sequence[Place | None] = ()) -> list[dict[str, Any]]:
    """Stored with the version. Personal data is never stored in clear: only the mask.
    ``places``: each finding's place in an uploaded document, aligned by index."""
    out = []
    for index, f in enumerate(findings):
        row: dict[str, Any] = {
            "category": f.category,
            "severity": f.severity,
            "start": f.start,
            "end": f.end,
            "text": f.shown,
            "suggestion": f.advice,
            "rule": f.rule,
        }
        place = places[index] if index < len(places) else None
        if place is not None:
            row["where"] = place.to_dict()
        out.append(row)
    return out
