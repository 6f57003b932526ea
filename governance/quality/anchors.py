"""Running a rule's regex only where the checker's one automaton pass found its words.

A Python regex that scans a whole post costs 7–50 ms per million characters even when it
finds nothing (it is tried at every position); eight such scans cost several times the
automaton pass that finds every dictionary word. So the words each rule's regex needs (its
"anchors": 关注 for follow-account residue, 公众号 for watermarks, a separator for SEO chains,
an open bracket before a year for document numbers …) are patterns of the checker's automaton,
which reports where they occur, and the regex is tried only at the positions a match could
start from.

:func:`anchored` gives exactly the matches of ``rx.finditer(text)`` when the candidate
positions include every position where ``rx`` matches: ``finditer`` takes the leftmost
match, then the leftmost one at or after its end, and so on, and a position where ``rx``
does not match is never a match start, whichever way it was proposed. ``rx.match(text, pos)``
sees the text before ``pos``, so lookbehinds and ``\\b`` behave as in a whole-text scan.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

#: Lowered anchor word -> the positions where it starts in the text, as the automaton found
#: them (a word absent from the mapping does not occur in the text).
Anchors = Mapping[str, Sequence[int]]


def anchored(rx: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)`` for a regex without empty matches, given a superset of the
    positions where it can match."""
    covered = 0
    for pos in sorted(set(starts)):
        if pos < covered:
            continue
        m = rx.match(text, pos)
        if m is not None:
            covered = m.end()
            yield m


def near(anchors: Anchors, words: Collection[str], back: int = 0) -> list[int]:
    """Positions up to ``back`` characters before each occurrence of ``words``: where a match
    that holds one of them at most ``back`` characters from its start can start."""
    out: list[int] = []
    for word in anchors if len(words) > len(anchors) else words:
        for p in anchors.get(word, ()) if word in words else ():
            out += range(max(0, p - back), p + 1) if back else (p,)
    return out


def preceded(
    text: str, anchors: Anchors, words: Collection[str], prefixes: tuple[str, ...]
) -> list[int]:
    """Where a match can start that holds one of ``words`` right after one of ``prefixes``
    (the empty one included if it may): the start of each prefix the text has there. Only
    the prefixes ending in the character before the word are compared."""
    out: list[int] = []
    bare, by_last = _by_last_char(prefixes)
    for word in words:
        for p in anchors.get(word, ()):
            if bare:
                out.append(p)
            for f in by_last.get(text[p - 1], ()) if p else ():
                if len(f) <= p and text.startswith(f, p - len(f)):
                    out.append(p - len(f))
    return out


@lru_cache(maxsize=16)
def _by_last_char(prefixes: tuple[str, ...]) -> tuple[bool, dict[str, tuple[str, ...]]]:
    """Whether the empty prefix is one, and the others by their last character."""
    by_last: dict[str, list[str]] = {}
    for f in prefixes:
        if f:
            by_last.setdefault(f[-1], []).append(f)
    return "" in prefixes, {c: tuple(fs) for c, fs in by_last.items()}


def occurs(anchors: Anchors, words: Iterable[str]) -> bool:
    return not anchors.keys().isdisjoint(words)
