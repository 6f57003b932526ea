"""Precision and recall of repost recognition (governance.reposts.judge) on labelled variants.

The committed set is tests/data/reposts.jsonl (bench/repost_variants.py, seed 19); fresh sets
from other seeds show whether the figures hold beyond it. Pure computation, no network.

    python bench/repost_matching.py                       # the committed set
    python bench/repost_matching.py --seeds 1 2 3 4 5     # five freshly generated sets
    python bench/repost_matching.py --errors 20           # also list misjudged variants
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from repost_variants import OUT, variants

from governance.reposts import Article, PostView, judge


def evaluate(rows: list[dict], *, errors: int = 0) -> dict[str, float]:
    tp = fp = fn = tn = 0
    by_kind: dict[str, Counter[str]] = {}
    shown = 0
    started = time.perf_counter()
    for row in rows:
        task, post = row["task"], row["post"]
        article = Article.of(
            title=task["title"],
            link=task["link"],
            text=task["text"],
            headline_counts=task["headline_counts"],
        )
        method = judge(article, PostView(post["title"], post["link"], post["text"]))
        got = method is not None
        tally = by_kind.setdefault(row["kind"], Counter())
        tally["n"] += 1
        tally["right"] += got == row["label"]
        if got and row["label"]:
            tp += 1
        elif got:
            fp += 1
        elif row["label"]:
            fn += 1
        else:
            tn += 1
        if got != row["label"] and shown < errors:
            shown += 1
            print(f"  ✗ {row['kind']}: task《{task['title']}》 post《{post['title']}》 -> {method}")
    elapsed = time.perf_counter() - started
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    each = elapsed * 1e6 / len(rows)
    print(f"  variants {len(rows)} (reposts {tp + fn}, others {fp + tn}); {each:.0f} µs each")
    print(f"  precision {precision:.3f}  recall {recall:.3f}  (tp {tp}, fp {fp}, fn {fn}, tn {tn})")
    for kind, tally in sorted(by_kind.items()):
        print(f"    {kind:<20} {tally['right']:>4}/{tally['n']:<4}")
    return {"precision": precision, "recall": recall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--file", type=Path, default=OUT)
    parser.add_argument("--seeds", type=int, nargs="*", default=None)
    parser.add_argument("--articles", type=int, default=60)
    parser.add_argument("--errors", type=int, default=0)
    args = parser.parse_args()
    if args.seeds:
        for seed in args.seeds:
            print(f"seed {seed} ({args.articles} articles):")
            evaluate(list(variants(random.Random(seed), args.articles)), errors=args.errors)
        return
    rows = [json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line]
    print(f"{args.file.name}:")
    evaluate(rows, errors=args.errors)


if __name__ == "__main__":
    main()
