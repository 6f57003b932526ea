"""Content-quality checks (错敏信息检测) for government new-media posts and drafts.

Pure: dictionaries load once from governance/data/quality/, checks do no I/O.

    checker = build_checker()                      # shipped data only
    checker.check_text("截止目前……")               # -> list[Finding]
    checker.check_html(html, allowed_domains=frozenset({"example.gov.cn"}))
    html_to_text(html)                             # the text check_html spans point into
    extract_links(html, html=True)                 # for the dead-link job in jobs/
"""

from __future__ import annotations

from .checker import Checker
from .extract import extract, html_to_text
from .holder import CheckerHolder
from .links import links_in_text
from .model import CATEGORIES, SEVERITIES, SEVERITY, Customization, Finding, Link, WordEntry


def build_checker(custom: Customization | None = None) -> Checker:
    """A checker from the shipped dictionaries plus the admins' `custom` changes."""
    return Checker(custom)


def extract_links(document: str, *, html: bool = False) -> list[Link]:
    """Links of a plain text (spans into it) or of an HTML document (spans into its
    `html_to_text`), for the dead-link check that runs with network access in jobs/."""
    return extract(document)[1] if html else links_in_text(document)


__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "SEVERITY",
    "Checker",
    "CheckerHolder",
    "Customization",
    "Finding",
    "Link",
    "WordEntry",
    "build_checker",
    "extract",
    "extract_links",
    "html_to_text",
]
