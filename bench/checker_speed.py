"""Throughput of the whole pure pipeline (check_text), single thread, in characters/s.

The corpus is realistic government text: the hand-written sentences of the evaluation
corpus shuffled into ~1,500-character posts, one defect sentence in about 40, a few MB
in all. Prints characters/s and CJK characters/s per core, timed in CPU time (process time),
so a machine loaded by other work gives the same figures, beside the baseline: one raw
Aho-Corasick pass of the same patterns over the same posts (issue 17's bound), and the whole
pipeline over the raw pass as a ratio (steadier than either figure on a loaded machine).
``--base`` times another checkout's checker (e.g. main's) on the same posts in a subprocess
and prints it beside this one's.

    python bench/checker_speed.py [megabytes] [--base /path/to/main-checkout [--rounds N]]
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import time
from pathlib import Path

if __name__ == "__main__" and "--root" in sys.argv:  # whose checker to time (see --base)
    sys.path.insert(0, sys.argv[sys.argv.index("--root") + 1])
    import governance.quality  # noqa: F401  (before the bench modules put this tree first)
else:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent))

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


def _best(run: object, posts: list[str], repeat: int = 5) -> tuple[float, int]:
    best, findings = float("inf"), 0
    for _ in range(repeat):
        t = time.process_time()
        findings = sum(len(run(p)) for p in posts)  # type: ignore[operator]
        best = min(best, time.process_time() - t)
    return best, findings


def main() -> None:
    parser = argparse.ArgumentParser(description="checker throughput beside a raw automaton pass")
    parser.add_argument("megabytes", nargs="?", type=float, default=6.0)
    parser.add_argument("--base", type=Path, help="another checkout to time the same way")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --base: time this checkout and the base in turn this many times and keep "
        "each side's best (a shared machine's load changes between two single runs)",
    )
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)  # the subprocess's side
    args = parser.parse_args()
    posts = corpus(args.megabytes)
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
    automaton = ahocorasick_rs.AhoCorasick(sorted({p for p, _ in default_pairs()}))
    raw, _ = _best(lambda p: automaton.find_matches_as_indexes(p, overlapping=True), posts)
    whole, findings = _best(checker.check_text, posts)
    if args.root:  # timed for the parent: the figures only
        print(f"{raw} {whole} {findings}")
        return
    base: list[float] = []  # raw, whole, findings: each side's best over the rounds
    for i in range(args.rounds if args.base else 0):
        if i:
            raw = min(
                raw,
                _best(lambda p: automaton.find_matches_as_indexes(p, overlapping=True), posts)[0],
            )
            whole = min(whole, _best(checker.check_text, posts)[0])
        out = subprocess.run(
            [sys.executable, __file__, str(args.megabytes), "--root", str(args.base.resolve())],
            cwd=args.base,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        got = [float(out[0]), float(out[1]), float(out[2])]
        base = [min(a, b) for a, b in zip(base, got, strict=True)] if base else got
    print(f"posts={len(posts)} chars={chars} cjk_chars={cjk}")
    print(f"build: first {first_build:.2f} s (variant table + automaton), rebuild {rebuild:.2f} s")
    raw_hits = sum(len(automaton.find_matches_as_indexes(p, overlapping=True)) for p in posts)
    dictionary, dictionary_findings = _best(checker._dictionary, posts)
    runs = 5 * max(1, args.rounds if args.base else 1)
    rows: list[tuple[str, int, float, float | None, int]] = [
        ("raw Aho-Corasick", runs, raw, None, raw_hits),
        ("dictionary pass", 5, dictionary, None, dictionary_findings),
        ("whole check_text", runs, whole, raw, findings),
    ]
    if base:
        rows.append(("base check_text", runs, base[1], base[0], int(base[2])))
    for name, best_of, cpu, own_raw, n in rows:
        ratio = f", {cpu / own_raw:.1f}x its own raw pass" if own_raw else ""
        print(
            f"{name:17s} best of {best_of} (CPU): {cpu:.3f} s -> {chars / cpu:,.0f} chars/s, "
            f"{cjk / cpu:,.0f} CJK chars/s ({n} findings){ratio}"
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
