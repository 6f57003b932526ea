"""The pure checker: one Aho-Corasick pass for every dictionary and for the words the rule
families start from (anchors.py: each family's regexes run only where its words occur, no
whole-text regex scan), then context rules. No I/O at check time.

Rules that keep legitimate text quiet (precision matters as much as recall):
- allow-list: a dictionary hit lying inside an allow-list match is dropped
  (报消息 is not 报消, 堪察加 is a place, 平安建设 is a policy term);
- longest match wins within a category (截止记者发稿 over 截止发稿);
- typo entries may carry an "unless followed by" regex (既使…又… is 既 + 使);
- gambling/porn vocabulary is quiet in a sentence that reports enforcement or regulation
  (打击, 破获, 判处, 管理办法 …) unless the same sentence carries a URL or a contact
  number, which is what injected spam needs and a police report does not;
- a removed official's name is reported only within 8 characters of an official title
  and outside a sentence reporting the downfall (落马, 被查, 开除党籍 …);
- ASCII words match on word boundaries only, case-insensitively.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import accumulate

import ahocorasick_rs
import numpy as np

from governance.vocabulary import Severity

from .adrules import ANCHOR_WORDS as ADRULE_ANCHORS
from .adrules import find_ad_residue
from .anchors import occurs
from .data import load_default_data
from .extract import extract
from .links import URL, domain_allowed, host_of
from .model import Customization, Finding, Link, make_finding
from .patterns import ALLOW, SPUN, STANDARD, Entry, build_pairs
from .pii import find_pii
from .placeholder import ANCHOR_WORDS as PLACEHOLDER_ANCHORS
from .placeholder import find_placeholders
from .repeats import ANCHOR_WORDS as DOCNO_ANCHORS
from .repeats import code_points, find_malformed_document_numbers, find_repeats
from .seo import ANCHOR_WORDS as SEO_ANCHORS
from .seo import find_seo_spam
from .spun import runs_into_word

_SENTENCE_ENDS = "。！？!?；;\n"
_CONTACT = re.compile(
    r"(?:https?://|www\.|\.com|\.net|\.vip|\.cc|\.top)|(?:微信|qq|QQ|vx|VX)[:：]?\s*[A-Za-z0-9_-]{5,}|1[3-9][0-9]{9}"
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]")
_TITLE_WINDOW = 8
_URL_WORDS = ("http", "www.")
#: Words the rule families start from (lowered): the automaton reports where they occur, so
#: that a family runs only when its words occur and only where a match can start (anchors.py).
_ANCHOR_WORDS: frozenset[str] = frozenset(
    (
        *ADRULE_ANCHORS,
        *PLACEHOLDER_ANCHORS,
        *SEO_ANCHORS,
        *DOCNO_ANCHORS,
        *_URL_WORDS,
    )
)
_PLACEHOLDER_WORDS = frozenset(PLACEHOLDER_ANCHORS)
# What a pattern of the automaton is, as bits: most hits are anchors or allow-list phrases,
# so the loop over the hits looks at one small int before it looks at any entry.
# _PLAIN: every entry of the pattern is reported as is (no context rule looks at it).
_ANCHOR, _ALLOWS, _FINDS, _ASCII_EDGE, _PLAIN = 1, 2, 4, 8, 16


def _is_word_char(c: str) -> bool:
    return c.isascii() and c.isalnum()


class Checker:
    """Immutable once built; share one instance between threads and swap it on rebuild."""

    __slots__ = (
        "_ac",
        "_allowed_domains",
        "_downfall",
        "_enforce",
        "_entries",
        "_flags",
        "_standard_ac",
        "_standard_reach",
        "_surnames",
        "_titles",
        "_url_ac",
        "_url_entries",
        "_words",
    )  # fmt: skip

    def __init__(self, custom: Customization | None = None) -> None:
        custom = custom or Customization()
        data = load_default_data()
        grouped: dict[str, list[Entry]] = {}
        url_grouped: dict[str, list[Entry]] = {}
        for category, rows in (("gambling", data.gambling), ("porn", data.porn)):
            for word, kind in rows:
                if kind == "url" and word not in custom.disabled:
                    url_grouped.setdefault(word, []).append(Entry(category, f"{category}.url"))
        for pattern, entry in build_pairs(custom):
            grouped.setdefault(pattern, []).append(entry)
        # Standard formulations only quiet a near miss inside them: they are most of the hits in
        # official text and near misses are rare, so they live in a second automaton that is
        # asked about the few characters around a near miss (_inside_standard).
        standards = [p for p, es in grouped.items() if any(e.kind == STANDARD for e in es)]
        self._standard_ac = ahocorasick_rs.AhoCorasick(standards) if standards else None
        self._standard_reach = max(map(len, standards), default=0)
        for word in _ANCHOR_WORDS:
            grouped.setdefault(word, [])
        patterns = [
            p
            for p, es in grouped.items()
            if p in _ANCHOR_WORDS or any(e.kind != STANDARD for e in es)
        ]
        self._words = tuple(patterns)
        self._entries: tuple[tuple[Entry, ...], ...] = tuple(
            tuple(e for e in grouped[p] if e.kind not in (STANDARD, ALLOW)) for p in patterns
        )
        self._flags = tuple(
            (_ANCHOR if p in _ANCHOR_WORDS else 0)
            | (_ALLOWS if any(e.kind == ALLOW for e in grouped[p]) else 0)
            | (_FINDS if entries else 0)
            | (_ASCII_EDGE if _is_word_char(p[0]) or _is_word_char(p[-1]) else 0)
            | (_PLAIN if all(e.kind == "plain" and e.unless_after is None for e in entries) else 0)
            for p, entries in zip(patterns, self._entries, strict=True)
        )
        # Matched in UTF-16: a copy of a CJK text's code units (2 bytes a character, not 3 in
        # UTF-8, and no byte-to-character offset conversion), byte offsets halved (_scan).
        self._ac = ahocorasick_rs.BytesAhoCorasick([p.encode("utf-16-le") for p in patterns])
        url_patterns = list(url_grouped)
        self._url_entries = tuple(tuple(url_grouped[p]) for p in url_patterns)
        self._url_ac = ahocorasick_rs.AhoCorasick(url_patterns)
        self._enforce = re.compile("|".join(map(re.escape, sorted(data.context["enforcement"]))))
        self._downfall = re.compile("|".join(map(re.escape, sorted(data.context["downfall"]))))
        self._titles = re.compile("|".join(map(re.escape, sorted(data.context["title"]))))
        self._surnames = data.surnames
        self._allowed_domains = data.allowed_domains | {
            d.lower().strip(".") for d in custom.allowed_domains
        }

    # ---- plain text -------------------------------------------------------------------

    def check_text(self, text: str) -> list[Finding]:
        """All findings in `text`, sorted by position; spans index into `text`."""
        if not text:
            return []
        found, anchors, units = self._scan(text)
        found += find_pii(text)
        if anchors is None or not _PLACEHOLDER_WORDS.isdisjoint(anchors.keys()):
            found += find_placeholders(text, self._surnames, anchors=anchors)
        found += find_ad_residue(text, anchors)
        found += find_seo_spam(text, anchors)
        # the scan's code units stand for the code points when each character is one unit:
        # lowering and U+FFFD for a lone surrogate change no CJK ideograph, the only
        # characters find_repeats compares
        codes = code_points(text) if units is None else np.frombuffer(units, dtype="<u2")
        found += find_repeats(text, codes)
        found += find_malformed_document_numbers(text, anchors)
        if anchors is None or occurs(anchors, _URL_WORDS):
            found += self._url_vice(text, [(m.start(), m.end()) for m in URL.finditer(text)])
        return _vice_over_ad(_dedupe(found))

    def _dictionary(self, text: str) -> list[Finding]:
        return self._scan(text)[0]

    def _scan(self, text: str) -> tuple[list[Finding], dict[str, list[int]] | None, bytes | None]:
        """Dictionary findings, where the rule families' anchor words occur (one pass), and
        the UTF-16 code units matched when there is one per character (else None).

        The anchors are None when lowering changed the text's length (a few code points
        do): the text is matched as is, and every family looks for itself."""
        low = text.lower()
        exact = len(low) == len(text)
        if not exact:
            low = text
        searched = low
        try:
            units = low.encode("utf-16-le")
        except UnicodeEncodeError:  # lone surrogates: matched as U+FFFD (UTF-8 cannot hold them)
            searched = _SURROGATE.sub("\ufffd", low)
            units = searched.encode("utf-16-le")
        matches = self._ac.find_matches_as_indexes(units, overlapping=True)
        one_unit = len(units) == 2 * len(searched)
        if not one_unit:  # characters past U+FFFF take two code units
            matches = _bmp_offsets(matches, searched)
        anchors: dict[str, list[int]] = {}
        allowed: list[tuple[int, int]] = []
        hits: list[tuple[int, int, int]] = []
        flags, words, entries = self._flags, self._words, self._entries
        for idx, s, e in matches:
            if s & 1:  # a match across two code units' bytes, not of characters
                continue
            s >>= 1
            e >>= 1
            f = flags[idx]
            if f & _ANCHOR:
                word = words[idx]
                if word in anchors:
                    anchors[word].append(s)
                else:
                    anchors[word] = [s]
            if f & _ALLOWS:
                allowed.append((s, e))
            if f & _FINDS and (not f & _ASCII_EDGE or _ascii_bounded(low, s, e)):
                hits.append((s, e, idx))
        out: list[Finding] = []
        inside_allowed = _Spans(allowed) if allowed and hits else None
        sentences: _Sentences | None = None
        for s, e, idx in hits:
            if inside_allowed is not None and inside_allowed.contains(s, e):
                continue
            if flags[idx] & _PLAIN:  # no context rule: report each entry as is
                out += [
                    make_finding(text, entry.category, s, e, entry.suggestion, entry.rule)
                    for entry in entries[idx]
                ]
                continue
            for entry in entries[idx]:
                if entry.unless_after is not None and entry.unless_after.match(text, e, e + 20):
                    continue
                if entry.kind == SPUN and (
                    self._inside_standard(searched, s, e) or runs_into_word(text, e)
                ):
                    continue
                if entry.kind in ("enforce", "official"):
                    sentences = sentences or _Sentences(text)
                    if entry.kind == "enforce" and self._enforcement_context(sentences, s, e):
                        continue
                    if entry.kind == "official" and not self._official_context(sentences, s, e):
                        continue
                out.append(make_finding(text, entry.category, s, e, entry.suggestion, entry.rule))
        if out:
            out = _longest(out, text)
            wording = _Spans([(f.start, f.end) for f in out if f.category == "wording"])
            if wording:  # a typo inside a wording error is the same defect, reported once
                out = [
                    f for f in out if f.category != "typo" or not wording.contains(f.start, f.end)
                ]
        return out, anchors if exact else None, units if one_unit else None

    def _inside_standard(self, searched: str, s: int, e: int) -> bool:
        """Whether a standard formulation of the (lowered) text spans ``[s, e)``: any such
        occurrence lies within its longest form's length of the span."""
        if self._standard_ac is None:
            return False
        lo = max(0, e - self._standard_reach)
        window = searched[lo : s + self._standard_reach]
        return any(
            lo + ms <= s and lo + me >= e
            for _, ms, me in self._standard_ac.find_matches_as_indexes(window, overlapping=True)
        )

    def _enforcement_context(self, sentences: _Sentences, s: int, e: int) -> bool:
        a, b = sentences.around(s, e)
        verdict = sentences.enforcement.get((a, b))
        if verdict is None:  # the sentence's other vice words get the same verdict
            text = sentences.text
            verdict = bool(self._enforce.search(text, a, b)) and not _CONTACT.search(text, a, b)
            sentences.enforcement[a, b] = verdict
        return verdict

    def _official_context(self, sentences: _Sentences, s: int, e: int) -> bool:
        text = sentences.text
        if self._downfall.search(text, *sentences.around(s, e)):
            return False
        return bool(
            self._titles.search(text, max(0, s - _TITLE_WINDOW), min(len(text), e + _TITLE_WINDOW))
        )

    def _url_vice(
        self, text: str, spans: Iterable[tuple[int, int]], target: Sequence[str] | None = None
    ) -> list[Finding]:
        """Gambling/porn words inside URLs (or inside `target` strings reported at spans)."""
        out = []
        for i, (s, e) in enumerate(spans):
            url = (target[i] if target is not None else text[s:e]).lower()
            for idx, ms, me in self._url_ac.find_matches_as_indexes(url, overlapping=True):
                if (ms > 0 and url[ms - 1].isalpha()) or (me < len(url) and url[me].isalpha()):
                    continue
                entry = self._url_entries[idx][0]
                out.append(make_finding(text, entry.category, s, e, "删除涉赌涉黄链接", entry.rule))
                break
        return out

    # ---- HTML -------------------------------------------------------------------------

    def check_html(
        self, html: str, *, allowed_domains: frozenset[str] = frozenset()
    ) -> list[Finding]:
        """Findings in an HTML document; spans index into `html_to_text(html)`.

        Adds link rules to the text checks: hidden links, off-list domains (only when the
        caller passes the account's `allowed_domains`; government and central media
        domains are always allowed), and links whose target is gambling/porn.
        """
        text, links = extract(html)
        return self.check_extracted(text, links, allowed_domains=allowed_domains)

    def check_extracted(
        self, text: str, links: list[Link], *, allowed_domains: frozenset[str] = frozenset()
    ) -> list[Finding]:
        """:meth:`check_html` on a document already extracted (``extract(html)``): for a caller
        that keeps the text and the links too, so the HTML is parsed once."""
        found = self.check_text(text)
        allowed = self._allowed_domains | {d.lower().strip(".") for d in allowed_domains}
        for link in links:
            found += self._link_findings(text, link, allowed if allowed_domains else None)
        return _dedupe(found)

    def _link_findings(
        self, text: str, link: Link, allowed: frozenset[str] | None
    ) -> list[Finding]:
        out = []
        if link.hidden:
            out.append(
                make_finding(
                    text,
                    "hidden_link",
                    link.start,
                    link.end,
                    f"删除隐藏链接 {link.url}",
                    f"hidden_link.{link.hidden}",
                )
            )
        host = host_of(link.url)
        if allowed is not None and host and not domain_allowed(host, allowed):
            out.append(
                make_finding(
                    text,
                    "hidden_link",
                    link.start,
                    link.end,
                    f"核实外部链接 {host}",
                    "hidden_link.offsite",
                )
            )
        out += self._url_vice(text, [(link.start, link.end)], [link.url])
        return out


class _Sentences:
    """The sentence around a match: at most 120 characters either side, cut at 。！？!?；; or a
    line break (found with str.find/rfind over those 120 characters, not a regex). The context
    regexes search the text between the bounds (they hold no lookaround, so that is the same
    as searching the sentence cut out)."""

    __slots__ = ("_ends", "enforcement", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._ends = [c for c in _SENTENCE_ENDS if c in text]  # most texts use two or three
        self.enforcement: dict[tuple[int, int], bool] = {}

    def around(self, s: int, e: int) -> tuple[int, int]:
        text = self.text
        start, stop = max(0, s - 120), min(len(text), e + 120)
        a = start
        for c in self._ends:
            i = text.rfind(c, a, s)
            if i >= 0:
                a = i + 1
        b = stop
        for c in self._ends:
            i = text.find(c, e, b)
            if i >= 0:
                b = i
        return a, b


class _Spans:
    """Containment and overlap queries over many spans in O(log n) each, so that a long
    text with many matches stays linear (a pairwise scan was quadratic on big inputs)."""

    __slots__ = ("_max_end", "_starts")

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self._starts = [s for s, _ in spans]
        self._max_end = list(accumulate((e for _, e in spans), max))

    def __bool__(self) -> bool:
        return bool(self._starts)

    def _reach(self, start: int) -> int:
        """The furthest end of the spans that start at or before `start`."""
        i = bisect_right(self._starts, start)
        return self._max_end[i - 1] if i else -1

    def contains(self, s: int, e: int) -> bool:
        return self._reach(s) >= e

    def overlaps(self, s: int, e: int) -> bool:
        return self._reach(e - 1) > s


def _bmp_offsets(matches: list[tuple[int, int, int]], text: str) -> list[tuple[int, int, int]]:
    """UTF-16 byte offsets in a text with characters past U+FFFF made twice the character
    indexes, as in a text without them. A match starts and ends between characters (no
    pattern holds half a surrogate pair); odd offsets stay odd, for _scan to drop."""
    starts = [m.start() + k for k, m in enumerate(_ASTRAL.finditer(text))]  # in code units
    out = []
    for idx, s, e in matches:
        if s & 1:
            continue
        us, ue = s >> 1, e >> 1
        out.append((idx, 2 * (us - bisect_left(starts, us)), 2 * (ue - bisect_left(starts, ue))))
    return out


def _ascii_bounded(low: str, s: int, e: int) -> bool:
    """ASCII patterns must not start or end inside a longer ASCII word (ag in bag)."""
    if _is_word_char(low[s]) and s > 0 and _is_word_char(low[s - 1]):
        return False
    return not (_is_word_char(low[e - 1]) and e < len(low) and _is_word_char(low[e]))


def _longest(found: list[Finding], text: str) -> list[Finding]:
    """Within a category, drop a hit inside a longer one; chain overlapping ad residue."""
    found.sort(key=lambda f: (f.start, -f.end))
    out: list[Finding] = []
    reach: dict[str, int] = {}
    last_ad: int | None = None
    for f in found:
        if reach.get(f.category, -1) >= f.end:
            continue
        if f.category == "ad" and last_ad is not None and out[last_ad].end > f.start:
            prev = out[last_ad]
            merged = make_finding(
                text, "ad", prev.start, max(f.end, prev.end), prev.suggestion, prev.rule
            )
            if Severity.SERIOUS in (prev.severity, f.severity):
                merged = replace(merged, severity=Severity.SERIOUS)
            out[last_ad] = merged
        else:
            out.append(f)
            if f.category == "ad":
                last_ad = len(out) - 1
        reach[f.category] = max(reach.get(f.category, -1), f.end)
    return out


def _vice_over_ad(found: list[Finding]) -> list[Finding]:
    """Residue words around a gambling/porn advert (…免费下载, 扫码下载…) are part of the advert."""
    spans = [(f.start, f.end) for f in found if f.category in ("gambling", "porn")]
    if not spans:
        return found
    vice = _Spans(spans)
    return [f for f in found if f.category != "ad" or not vice.overlaps(f.start - 2, f.end + 2)]


def _dedupe(found: list[Finding]) -> list[Finding]:
    """One finding per defect: drop repeats and findings inside a longer one of their category."""
    if len(found) < 2:
        return found
    reach: dict[str, int] = {}
    out = []
    for f in sorted(found, key=lambda f: (f.start, -f.end, f.category)):
        if reach.get(f.category, -1) >= f.end:
            continue
        reach[f.category] = max(reach.get(f.category, -1), f.end)
        out.append(f)
    out.sort(key=lambda f: (f.start, f.end, f.category))
    return out
