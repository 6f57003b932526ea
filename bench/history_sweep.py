"""History sweep: every stored post checked again (after a word-list change), on all cores.

    .venv/bin/python bench/history_sweep.py [--posts 100000] [--workers 2]

Posts are the checker bench's realistic government text (``checker_speed.corpus``: sentences of
the evaluation corpus, one defect sentence in about 40), cut to ``--chars`` characters each (the
average stored post's title and text). ``--workers`` processes each build the checker once and
check their share of the posts with ``check_text``; the bench prints posts/s, CPU per post, and
the time that rate gives for 10 million posts (an extrapolation from the measured run: the work is
the same per post, so it is linear). Reading the posts from the database is not included.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from checker_speed import corpus

from governance.quality import build_checker

TEN_MILLION = 10_000_000


def _posts(n: int, chars: int) -> list[str]:
    text = "".join(corpus(3.0))
    return [text[(i * chars) % (len(text) - chars) :][:chars] for i in range(n)]


def work(args: tuple[int, int, int]) -> tuple[int, int, float]:
    """Check ``count`` posts (built here, not shipped over the pipe); (posts, findings, CPU s)."""
    start, count, chars = args
    checker = build_checker()
    posts = _posts(start + count, chars)[start:]
    cpu = time.process_time()
    found = sum(len(checker.check_text(p)) for p in posts)
    return count, found, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chars", type=int, default=1200)
    args = parser.parse_args()
    share = args.posts // args.workers
    jobs = [(i * share, share, args.chars) for i in range(args.workers)]
    wall = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        results = pool.map(work, jobs)
    wall = time.perf_counter() - wall
    posts = sum(r[0] for r in results)
    cpu = sum(r[2] for r in results)
    rate = posts / wall
    print(
        f"{posts:,} posts of {args.chars} chars, {args.workers} workers: {wall:.1f} s wall "
        f"(checker builds and text generation included), {rate:,.0f} posts/s, "
        f"{cpu / posts * 1000:.2f} ms CPU per post checked, "
        f"{sum(r[1] for r in results):,} findings"
    )
    print(
        f"10,000,000 posts at this rate: {TEN_MILLION / rate / 60:.0f} min wall; "
        f"checking alone on {args.workers} idle cores: "
        f"{TEN_MILLION * cpu / posts / args.workers / 60:.0f} min (extrapolated)"
    )


if __name__ == "__main__":
    main()
