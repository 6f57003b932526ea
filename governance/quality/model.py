"""The value types every check returns.

Category and severity names are part of the public contract (stored findings, the
`python -m bot check --jsonl` output): they are :mod:`governance.vocabulary`'s enums.
"""

from __future__ import annotations

from dataclasses import dataclass

from governance.vocabulary import CONTENT_CATEGORIES, Category, Severity

#: The categories the checker reports, and their weight (the vocabulary lives in one place).
CATEGORIES: tuple[Category, ...] = CONTENT_CATEGORIES
SEVERITY: dict[Category, Severity] = {c: c.severity for c in CONTENT_CATEGORIES}
SEVERITIES: tuple[Severity, ...] = tuple(Severity)


@dataclass(frozen=True, slots=True)
class Finding:
    """One defect: `text == checked_text[start:end]` always holds."""

    category: Category
    severity: Severity
    start: int
    end: int
    text: str
    suggestion: str | None
    rule: str

    @property
    def shown(self) -> str:
        """The matched text as it may be stored or shown: personal data only as its mask.

        The one display rule: for personal data the checker puts the mask in ``suggestion``.
        """
        if self.category == Category.PII:
            return self.suggestion or "*" * len(self.text)
        return self.text

    @property
    def advice(self) -> str | None:
        """The suggestion to show; personal data has none (its suggestion is the mask)."""
        return None if self.category == Category.PII else self.suggestion


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
    kind = _CATEGORY_OF.get(category) or Category(category)  # Category(...) is slow
    return Finding(kind, _SEVERITY_OF[kind], start, end, text[start:end], suggestion, rule)


_CATEGORY_OF: dict[str, Category] = {c.value: c for c in Category}
_SEVERITY_OF: dict[Category, Severity] = {c: c.severity for c in Category}
