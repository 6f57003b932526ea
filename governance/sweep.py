"""The history sweep's rules: what a word-list change means for posts already stored.

Admins change the checker's word lists (``/words``, the word file); new posts are checked with
the new lists at once, stored ones by the history sweep (:mod:`jobs.history_sweep`). The sweep
is differential. A customisation is a set of :class:`RuleItem`; a change is the items added and
the items removed. Every finding a change can create or withdraw involves a literal match of a
changed item's text in the post (a new word, a re-enabled shipped word, a removed allow phrase
unmasking what it hid, a removed word's old hits, a new allow phrase covering old hits), so only
posts whose text contains one of :attr:`Delta.literals` need the full check again: a small
automaton of those literals finds them. When the change only removed words (no allow-list
change, nothing added), not even that: only the posts with open findings citing a removed word
(:attr:`Delta.cited`) are revisited (:attr:`Delta.findings_only`).

A change made while a sweep runs restarts it from the first post with the newer lists. Posts
before the cursor then reflect the previous target and the rest the one before: the sweep keeps
the union and the intersection of every state a post may be in, and the delta is computed
against both (items of the target missing from some state are "added", items of some state
missing from the target are "removed"), which is exact when nothing was interrupted and a safe
superset otherwise.

Word lists govern only the dictionary findings (:func:`word_dependent`): personal data,
placeholders, repeats, link findings (which need the HTML a stored post no longer has) are never
withdrawn by a sweep.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import ahocorasick_rs

from governance.quality import Customization


class ItemKind(StrEnum):
    WORD = "word"
    ALLOW = "allow"
    DISABLE = "disable"
    OFFICIAL = "official"
    DOMAIN = "domain"


class SweepState(StrEnum):
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True, slots=True, order=True)
class RuleItem:
    """One entry of a customisation; a changed suggestion is a removed item plus an added one."""

    kind: ItemKind
    word: str
    category: str = ""
    suggestion: str = ""

    @property
    def literal(self) -> str:
        """What the checker's automaton matches for this item (it matches lowered text)."""
        return self.word.strip().lower()


Items = frozenset[RuleItem]


def items_of(custom: Customization) -> Items:
    """The customisation as a set of items (order and duplicates do not matter to the checker)."""
    out = {RuleItem(ItemKind.WORD, w.word, w.category, w.suggestion or "") for w in custom.words}
    out |= {RuleItem(ItemKind.ALLOW, p) for p in custom.allow}
    out |= {RuleItem(ItemKind.DISABLE, w) for w in custom.disabled}
    out |= {RuleItem(ItemKind.OFFICIAL, n) for n in custom.removed_officials}
    out |= {RuleItem(ItemKind.DOMAIN, d) for d in custom.allowed_domains}
    return frozenset(i for i in out if i.literal)


def dump_items(items: Iterable[RuleItem]) -> str:
    return json.dumps(
        [[i.kind.value, i.word, i.category, i.suggestion] for i in sorted(items)],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def load_items(text: str | None) -> Items:
    if not text:
        return frozenset()
    return frozenset(RuleItem(ItemKind(k), w, c, s) for k, w, c, s in json.loads(text))


def digest(items: Iterable[RuleItem]) -> str:
    """A stable name of a customisation: equal lists, equal digest, whatever their order."""
    return hashlib.sha256(dump_items(items).encode()).hexdigest()[:32]


#: Rule families whose findings come from the dictionary automaton, i.e. from the word lists.
_WORD_RULES = frozenset(
    {
        "typo.dict",
        "typo.phrase",
        "wording.dict",
        "wording.formulation",
        "wording.region",
        "wording.congress",
        "wording.removed_official",
        "gambling.term",
        "gambling.brand",
        "porn.term",
        "porn.brand",
        "ad.phrase",
        "placeholder.phrase",
    }
)


def word_dependent(rule: str) -> bool:
    """Findings a word-list change may create or withdraw (a sweep re-decides only these)."""
    return rule in _WORD_RULES or rule.endswith(".custom")


@dataclass(frozen=True, slots=True)
class Delta:
    added: Items
    removed: Items
    flagged: frozenset[str] = frozenset()
    """Literals the target still flags as words or names (a changed suggestion keeps them)."""

    @property
    def literals(self) -> frozenset[str]:
        """Texts whose presence in a post makes it a candidate for the full check again.

        Allowed link domains are left out: they matter only to link findings, which need the
        HTML that stored posts do not keep."""
        return frozenset(
            i.literal for i in self.added | self.removed if i.kind is not ItemKind.DOMAIN
        )

    @property
    def cited(self) -> frozenset[str]:
        """Lowered finding texts that cite a removed item: withdrawn where the text is gone."""
        gone = {i.literal for i in self.removed if i.kind in (ItemKind.WORD, ItemKind.OFFICIAL)}
        gone |= {i.literal for i in self.added if i.kind is ItemKind.DISABLE}
        return frozenset(gone - self.flagged)

    @property
    def covering(self) -> frozenset[str]:
        """New allow phrases: a finding lying inside one is withdrawn."""
        return frozenset(i.literal for i in self.added if i.kind is ItemKind.ALLOW)

    @property
    def findings_only(self) -> bool:
        """Only removals of words, names or shipped words: revisit the findings citing them
        instead of reading every post (nothing new can appear anywhere else)."""
        grows = [
            i for i in self.added if i.kind in (ItemKind.WORD, ItemKind.ALLOW, ItemKind.OFFICIAL)
        ]
        shrinks = [i for i in self.removed if i.kind in (ItemKind.ALLOW, ItemKind.DISABLE)]
        kept = [i for i in self.removed if i.literal in self.flagged]
        return not grows and not shrinks and not kept and bool(self.cited)

    @property
    def empty(self) -> bool:
        return not self.literals and not self.cited


def delta(target: Items, *, union: Items, inter: Items) -> Delta:
    """What must change for every post, whichever of the tracked states it is in."""
    flagged = frozenset(i.literal for i in target if i.kind in (ItemKind.WORD, ItemKind.OFFICIAL))
    return Delta(added=target - inter, removed=union - target, flagged=flagged)


def covered(excerpt_text: str, offset: int, length: int, phrases: Iterable[str]) -> bool:
    """Whether an occurrence of an allow phrase covers ``[offset, offset+length)`` of the
    excerpt (the finding's place in its stored excerpt), for posts whose text has expired."""
    low = excerpt_text.lower()
    for phrase in phrases:
        start = low.find(phrase)
        while start != -1:
            if start <= offset and offset + length <= start + len(phrase):
                return True
            start = low.find(phrase, start + 1)
    return False


_SURROGATE = re.compile(r"[\ud800-\udfff]")


class LiteralScan:
    """The differential sweep's pre-filter: does a text contain any changed literal?

    One small Aho-Corasick automaton of the changed words (a handful), run over the lowered
    text as the checker's own automaton is; a post without a hit cannot change its findings,
    so the full check runs only on the few that hit."""

    __slots__ = ("_ac",)

    def __init__(self, literals: Iterable[str]) -> None:
        words = sorted({w for w in literals if w})
        self._ac = ahocorasick_rs.AhoCorasick(words) if words else None

    def hits(self, text: str) -> bool:
        if self._ac is None or not text:
            return False
        low = text.lower()
        try:
            return bool(self._ac.find_matches_as_indexes(low))
        except UnicodeEncodeError:  # lone surrogates cannot be UTF-8 encoded
            return bool(self._ac.find_matches_as_indexes(_SURROGATE.sub("\ufffd", low)))
