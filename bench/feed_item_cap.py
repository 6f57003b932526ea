"""What the item cap saves on a monstrous feed: feedparser over the whole document (the baseline,
what the poller did before the cap) against ``parse_feed``, which cuts the document before the
item past the cap, side by side on the same bytes.

    python bench/feed_item_cap.py [ITEMS ...]     # default: 1000 10000 100000
"""

from __future__ import annotations

import io
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import feedparser

from feeds.feedparse import MAX_ITEMS, parse_feed


def feed(items: int) -> bytes:
    body = "".join(
        f"<item><title>第{n}条 关于开展防汛检查的通知</title><guid>g{n}</guid>"
        f"<link>https://example.gov.cn/{n}</link><description>正文 {n}</description></item>"
        for n in range(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>某区</title>'
        f"{body}</channel></rss>"
    ).encode()


def timed(fn: object) -> tuple[float, int]:
    started = time.perf_counter()
    count = fn()  # type: ignore[operator]
    return time.perf_counter() - started, count


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10_000, 100_000]
    seen = datetime.now(UTC)
    print(f"{'items':>8} {'bytes':>11} {'baseline s':>11} {'capped s':>9} {'kept':>6}")
    for items in sizes:
        body = feed(items)
        base, _ = timed(
            lambda body=body: len(
                feedparser.parse(io.BytesIO(body), sanitize_html=False)["entries"]
            )
        )
        capped, kept = timed(
            lambda body=body: len(parse_feed(body, {}, first_seen=seen, max_items=MAX_ITEMS).items)
        )
        print(f"{items:>8} {len(body):>11,} {base:>11.2f} {capped:>9.2f} {kept:>6}")


if __name__ == "__main__":
    main()
