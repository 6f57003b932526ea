"""Throughput of the whole pure pipeline (check_text), single thread, in characters/s.

The corpus is realistic government text: the hand-written sentences of the evaluation
corpus shuffled into ~1,500-character posts, one defect sentence in about 40, a few MB
in all. Prints characters/s and CJK characters/s per core, timed in CPU time (process time),
so a machine loaded by other work gives the same figures, beside the baseline: one raw
Aho-Corasick pass of the same patterns over the same posts (issue 17's bound).

    python bench/checker_speed.py [megabytes]
"""

from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ahocorasick_rs
from eval_corpus import CLEAN, DEFECTS
from make_quality_eval import unmark

from governance.quality import build_checker
from governance.quality.patterns import default_pairs

CJK = re.compile(r"[\u3400-\u9fff]")


def corpus(megabytes: float, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    defects = [unmark(s)[0] for group in DEFECTS.values() for s in group]
    posts, size, target = [], 0, int(megabytes * 1_000_000 / 3)  # ~3 UTF-8 bytes a char
    while size < target:
        parts, n = [], 0
        while n < 1500:
            s = rng.choice(defects) if rng.random() < 0.025 else rng.choice(CLEAN)
            parts.append(s)
            n += len(s)
        post = "".join(parts)
        posts.append(post)
        size += len(post)
    return posts


def main() -> None:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
    posts = corpus(mb)
    chars = sum(map(len, posts))
    cjk = sum(len(CJK.findall(p)) for p in posts)
    t = time.perf_counter()
    checker = build_checker()
    first_build = time.perf_counter() - t
    t = time.perf_counter()
    build_checker()
    rebuild = time.perf_counter() - t
    for p in posts[:50]:  # warm up
        checker.check_text(p)
    print(f"posts={len(posts)} chars={chars} cjk_chars={cjk}")
    print(f"build: first {first_build:.2f} s (variant table + automaton), rebuild {rebuild:.2f} s")
    automaton = ahocorasick_rs.AhoCorasick(sorted({p for p, _ in default_pairs()}))
    for name, run in (
        ("raw Aho-Corasick", lambda p: automaton.find_matches_as_indexes(p, overlapping=True)),
        ("dictionary pass", checker._dictionary),
        ("whole check_text", checker.check_text),
    ):
        best = float("inf")
        for _ in range(3):
            t = time.process_time()
            findings = sum(len(run(p)) for p in posts)
            best = min(best, time.process_time() - t)
        print(
            f"{name:17s} best of 3 (CPU): {best:.3f} s -> {chars / best:,.0f} chars/s, "
            f"{cjk / best:,.0f} CJK chars/s ({findings} findings)"
        )
    draft = "".join(posts)[:10_000]
    best = min(_timed(checker.check_text, draft) for _ in range(5))
    print(f"one 10,000-character draft: {best * 1000:.1f} ms")


def _timed(run: object, text: str) -> float:
    t = time.process_time()
    run(text)  # type: ignore[operator]
    return time.process_time() - t


if __name__ == "__main__":
    main()
