"""Matching what an account published to the drafts approved for it (closing the loop).

A feed item often carries a shortened text, different punctuation and line breaks, so texts
are normalized and compared by how much of the post's character trigrams the draft contains;
the titles are compared the same way. A post matches an approved draft published within a window
around the approval time; one that matches none was published without review (未经审核发布).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

_URL = re.compile(r"https?://\S+")
_NOISE = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """NFKC, lower case, links and everything but letters and digits removed."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _NOISE.sub("", _URL.sub("", text))


def fingerprint(text: str) -> int:
    """64 bits of BLAKE2b over the normalized text, as a signed integer (a BIGINT column).

    Equal after normalization, equal fingerprints: a stored post whose body has expired can still
    be recognised as a copy of a text (a republished post, a draft published word for word)."""
    digest = hashlib.blake2b(normalize(text).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _grams(text: str, n: int = 3) -> set[str]:
    if len(text) < n:
        return {text} if text else set()
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def containment(part: str, whole: str) -> float:
    """The share of ``part``'s trigrams found in ``whole`` (0..1), on normalized texts."""
    a, b = _grams(normalize(part)), _grams(normalize(whole))
    if not a or not b:
        return 0.0
    return len(a & b) / len(a)


def similarity(a: str, b: str) -> float:
    """Symmetric: the smaller text's trigrams found in the larger one."""
    na, nb = normalize(a), normalize(b)
    if len(na) > len(nb):
        na, nb = nb, na
    return containment(na, nb)


@dataclass(frozen=True, slots=True)
class MatchWindow:
    """How far before and after approval a post may appear, and how alike it must be."""

    before: timedelta = timedelta(hours=2)
    after: timedelta = timedelta(days=14)
    threshold: float = 0.6


@dataclass(frozen=True, slots=True)
class Candidate:
    review_id: int
    title: str
    text: str
    approved_at: datetime


def score(*, title: str, text: str, candidate: Candidate) -> float:
    """The better of title likeness and text likeness (a post may be a title plus a link)."""
    title_score = similarity(title, candidate.title) if title and candidate.title else 0.0
    text_score = 0.0
    if normalize(text) and normalize(candidate.text):
        text_score = containment(text, candidate.text) if len(normalize(text)) >= 6 else 0.0
    return max(title_score, text_score)


def best_match(
    *,
    title: str,
    text: str,
    published_at: datetime,
    candidates: Sequence[Candidate],
    window: MatchWindow,
) -> Candidate | None:
    """The most alike candidate inside the window and above the threshold, or None."""
    best: tuple[float, Candidate] | None = None
    for c in candidates:
        if not c.approved_at - window.before <= published_at <= c.approved_at + window.after:
            continue
        value = score(title=title, text=text, candidate=c)
        if value >= window.threshold and (best is None or value > best[0]):
            best = (value, c)
    return best[1] if best else None
