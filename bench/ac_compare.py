"""Why ahocorasick-rs: both libraries over the checker's own patterns and a few MB of
government text, overlapping matches, single thread.

    pip install pyahocorasick   # dev extra
    python bench/ac_compare.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ahocorasick_rs
from checker_speed import corpus

from governance.quality.patterns import default_pairs


def main() -> None:
    patterns = sorted({p for p, _ in default_pairs()})
    text = "".join(corpus(6.0))
    print(f"{len(patterns)} patterns, {len(text):,} chars")
    t = time.perf_counter()
    rs = ahocorasick_rs.AhoCorasick(patterns)
    built = time.perf_counter() - t
    t = time.perf_counter()
    n = len(rs.find_matches_as_indexes(text, overlapping=True))
    d = time.perf_counter() - t
    print(f"ahocorasick-rs: build {built:.3f} s, {n} matches, {len(text) / d:,.0f} chars/s")
    try:
        import ahocorasick
    except ImportError:
        print("pyahocorasick not installed")
        return
    t = time.perf_counter()
    a = ahocorasick.Automaton()
    for i, p in enumerate(patterns):
        a.add_word(p, i)
    a.make_automaton()
    built = time.perf_counter() - t
    t = time.perf_counter()
    n = sum(1 for _ in a.iter(text))
    d = time.perf_counter() - t
    print(f"pyahocorasick:  build {built:.3f} s, {n} matches, {len(text) / d:,.0f} chars/s")


if __name__ == "__main__":
    main()
