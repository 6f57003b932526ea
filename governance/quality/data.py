"""Loading the shipped dictionaries under governance/data/quality/.

Files are plain UTF-8 TSV/TXT with `#` header comments (source and format), read once
per process through a cached function; the result is immutable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Province:
    name: str
    short: str
    cities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DefaultData:
    typos: tuple[tuple[str, str, str], ...]  # wrong, right, unless-after regex ("" if none)
    typo_allow: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]  # official phrases split into words
    formulations: tuple[tuple[str, str], ...]  # standard form, kind (提法 | 搭配)
    synonyms: dict[str, tuple[str, ...]]
    wording: tuple[tuple[str, str, str], ...]  # wrong, right, note
    provinces: tuple[Province, ...]
    gambling: tuple[tuple[str, str], ...]  # word, kind (term | brand | url)
    porn: tuple[tuple[str, str], ...]
    spam_suffixes: tuple[str, ...]
    ad: tuple[tuple[str, str], ...]
    context: dict[str, frozenset[str]]  # purpose -> words
    allow: tuple[str, ...]
    surnames: frozenset[str]
    allowed_domains: frozenset[str]


def _lines(name: str) -> list[str]:
    text = resources.files("governance").joinpath("data", "quality", name).read_text("utf-8")
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _rows(name: str, width: int) -> list[tuple[str, ...]]:
    rows = []
    for ln in _lines(name):
        cells = ln.split("\t")
        rows.append(tuple(cells + [""] * (width - len(cells)))[:width])
    return rows


@lru_cache(maxsize=1)
def load_default_data() -> DefaultData:
    """Read every shipped dictionary once; callers share the immutable result."""
    context: dict[str, set[str]] = {}
    for word, purpose in _rows("context.tsv", 2):
        context.setdefault(purpose, set()).add(word)
    return DefaultData(
        typos=tuple(_rows("typos.tsv", 3)),  # type: ignore[arg-type]
        typo_allow=tuple(_lines("typo_allow.txt")),
        phrases=tuple(tuple(ln.split("/")) for ln in _lines("official_phrases.txt")),
        formulations=tuple(_rows("formulations.tsv", 2)),  # type: ignore[arg-type]
        synonyms={k: tuple(v.split(",")) for k, v in _rows("phrase_synonyms.tsv", 2)},
        wording=tuple(_rows("wording.tsv", 3)),  # type: ignore[arg-type]
        provinces=tuple(
            Province(name, short, tuple(c for c in cities.split(",") if c))
            for name, short, cities in _rows("regions.tsv", 3)
        ),
        gambling=tuple(_rows("gambling.tsv", 2)),  # type: ignore[arg-type]
        porn=tuple(_rows("porn.tsv", 2)),  # type: ignore[arg-type]
        spam_suffixes=tuple(_lines("spam_suffixes.txt")),
        ad=tuple(_rows("ad.tsv", 2)),  # type: ignore[arg-type]
        context={k: frozenset(v) for k, v in context.items()},
        allow=tuple(_lines("allow.txt")),
        surnames=frozenset(_lines("surnames.txt")),
        allowed_domains=frozenset(_lines("allowed_domains.txt")),
    )
