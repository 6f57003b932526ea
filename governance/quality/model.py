"""The value types every check returns, and the fixed category/severity vocabulary.

Category and severity names are part of the public contract (stored findings, the
`python -m bot check --jsonl` output), so they live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: tuple[str, ...] = (
    "typo",
    "wording",
    "gambling",
    "porn",
    "hidden_link",
    "pii",
    "placeholder",
    "ad",
    "dead_link",
)

# Inspection weight of each category: veto fails the account by itself (单项否决).
SEVERITY: dict[str, str] = {
    "wording": "veto",
    "gambling": "veto",
    "porn": "veto",
    "pii": "veto",
    "hidden_link": "serious",
    "placeholder": "serious",
    "dead_link": "serious",
    "typo": "general",
    "ad": "general",
}

SEVERITIES: tuple[str, ...] = ("veto", "serious", "general")


@dataclass(frozen=True, slots=True)
class Finding:
    """One defect: `text == checked_text[start:end]` always holds."""

    category: str
    severity: str
    start: int
    end: int
    text: str
    suggestion: str | None
    rule: str


@dataclass(frozen=True, slots=True)
class Link:
    """A link found in a text or HTML document, for the dead-link job and link rules.

    `start`/`end` point at the link's visible text (HTML) or the URL itself (plain text)
    in the extracted plain text; `hidden` names why a browser would not show it, if so.
    """

    url: str
    start: int
    end: int
    text: str
    hidden: str | None = None


@dataclass(frozen=True, slots=True)
class WordEntry:
    """An admin-supplied dictionary word: flag `word` as `category`, suggest `suggestion`."""

    category: str
    word: str
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class Customization:
    """What admins change at run time on top of the shipped dictionaries.

    `words` adds entries, `allow` adds allow-list phrases (a finding inside one is not
    reported), `disabled` switches shipped words off, `removed_officials` lists names of
    removed officials (落马官员) that must not appear as officials, and `allowed_domains`
    adds link domains that are never off-list.
    """

    words: tuple[WordEntry, ...] = ()
    allow: tuple[str, ...] = ()
    disabled: tuple[str, ...] = ()
    removed_officials: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()


def make_finding(
    text: str, category: str, start: int, end: int, suggestion: str | None, rule: str
) -> Finding:
    """Build a Finding whose text is sliced from the checked text, so spans never lie."""
    return Finding(category, SEVERITY[category], start, end, text[start:end], suggestion, rule)
