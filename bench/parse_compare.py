"""CPU per changed feed, the parse alone: the poller's parse path beside feedparser, same bodies.

    .venv/bin/python bench/parse_compare.py               # 200 farm feeds, 30 items each
    .venv/bin/python bench/parse_compare.py --feeds 1000 --items 50

Issue 17's "CPU per changed feed" row: the bodies are the farm's (bench/farm.py ``render``,
≈ 47 KB of RSS 2.0 with Chinese posts), each parsed, in this process, by

- the product: :func:`feeds.fastparse.parse_feed_fast_first`, what the poller calls for a
  changed feed (the guard, strict lxml's cross-check and fastfeedparser; feedparser when the
  guard declines);
- the baseline: :func:`feeds.feedparse.parse_feed`, feedparser, the reference the product
  replaced (≈ 9.5 ms a feed in the issue);
- the bound: ``fastfeedparser.parse`` alone, without the guard or our item mapping.

Timed in CPU time (``time.process_time``), best of ``--rounds`` passes over all bodies, so the
shared machine's load hardly moves it. Then agreement: for every body, the product's items
against feedparser's (identity, guid, title, link, published, author, visible text), and how
many bodies took the fast path. The poller's whole cost per changed feed (fetch, parse, store)
is ``bench/poll_farm.py``'s "all changed" cycle.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fastfeedparser

from bench.farm import render
from feeds.fastparse import parse_feed_fast_first, try_fast
from feeds.feedparse import ParsedFeed, parse_feed

HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}
FIELDS = ("identity", "guid", "title", "link", "published", "author", "body_text")


def cpu_ms_per_body(parse: Callable[[bytes], Any], bodies: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for body in bodies:
            parse(body)
        best = min(best, time.process_time() - started)
    return 1000 * best / len(bodies)


def same_items(a: ParsedFeed, b: ParsedFeed) -> bool:
    return len(a.items) == len(b.items) and all(
        getattr(x, f) == getattr(y, f)
        for x, y in zip(a.items, b.items, strict=True)
        for f in FIELDS
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--items", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    now = datetime.now(UTC)
    bodies = [render(i, 1 + i % 5, args.items) for i in range(args.feeds)]
    size = sum(map(len, bodies)) / len(bodies) / 1024
    print(f"parse_compare: {args.feeds} farm feeds, {args.items} items, {size:.1f} KB each")

    def ours(body: bytes) -> ParsedFeed:
        return parse_feed_fast_first(body, HEADERS, first_seen=now)

    def reference(body: bytes) -> ParsedFeed:
        return parse_feed(body, HEADERS, first_seen=now)

    for parse in (ours, reference, fastfeedparser.parse):  # warm: imports, caches
        parse(bodies[0])
    fast_ms = cpu_ms_per_body(ours, bodies, args.rounds)
    ref_ms = cpu_ms_per_body(reference, bodies, args.rounds)
    raw_ms = cpu_ms_per_body(fastfeedparser.parse, bodies, args.rounds)
    took_fast = sum(try_fast(b, HEADERS, first_seen=now) is not None for b in bodies)
    agree = sum(same_items(ours(b), reference(b)) for b in bodies)
    print(
        f"product  parse_feed_fast_first (guard + fastfeedparser) {fast_ms:6.2f} ms CPU/feed\n"
        f"baseline feedparser (parse_feed, the reference)        {ref_ms:6.2f} ms CPU/feed"
        f"  = {ref_ms / fast_ms:.0f}x the product\n"
        f"bound    fastfeedparser.parse alone                     {raw_ms:6.2f} ms CPU/feed"
        f"  (the guard and mapping cost {fast_ms / raw_ms:.1f}x it)\n"
        f"fast path taken on {took_fast}/{len(bodies)};"
        f" same items as feedparser ({', '.join(FIELDS)}) on {agree}/{len(bodies)}"
    )


if __name__ == "__main__":
    main()
