"""Precision and recall per category on tests/data/quality_eval.jsonl.

A finding is a true positive when its category matches a label's and the spans overlap;
a label is recalled when some finding of its category overlaps it. HTML items are
checked with check_html(allowed_domains={"example.gov.cn"}) and labelled in the text
html_to_text returns. Also counts false positives on clean items for the veto categories.

    python bench/quality.py [-v] [path/to/eval.jsonl ...]

Besides the per-category table it prints two issue-12 figures: span recall on spun wording
(labels of `*-spun-*` items found by a typo or wording finding: which of the two an
inspector files a spun phrase under is a judgement call) and how many clean items (no
labels, long documents included) got any finding at all.

The sets: tests/data/quality_eval.jsonl (tuned on), tests/data/quality_heldout.jsonl (written
before the issue-12 checks; looked at while tuning them), tests/data/quality_fresh.jsonl
(written after the checks were frozen, run once).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.quality import CATEGORIES, build_checker

DEFAULT = Path(__file__).resolve().parent.parent / "tests" / "data" / "quality_eval.jsonl"
ALLOWED = frozenset({"example.gov.cn"})
ZERO_FP = ("pii", "gambling", "porn", "wording")


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


SPUN_CATEGORIES = ("typo", "wording")


def evaluate(path: Path, verbose: bool = False) -> dict[str, dict[str, float]]:
    checker = build_checker()
    stats = {c: {"tp": 0, "fp": 0, "found": 0, "labels": 0} for c in CATEGORIES}
    clean_fp = dict.fromkeys(ZERO_FP, 0)
    spun = {"found": 0, "labels": 0}
    clean = {"items": 0, "flagged": 0}
    for line in path.read_text("utf-8").splitlines():
        item = json.loads(line)
        if item.get("html"):
            findings = checker.check_html(item["text"], allowed_domains=ALLOWED)
        else:
            findings = checker.check_text(item["text"])
        labels = item["labels"]
        if not labels:
            clean["items"] += 1
            clean["flagged"] += bool(findings)
        if "-spun-" in item["id"]:
            for lb in labels:
                spun["labels"] += 1
                spun["found"] += any(
                    f.category in SPUN_CATEGORIES
                    and overlaps((f.start, f.end), (lb["start"], lb["end"]))
                    for f in findings
                )
        for f in findings:
            hit = any(
                lb["category"] == f.category
                and overlaps((f.start, f.end), (lb["start"], lb["end"]))
                for lb in labels
            )
            stats[f.category]["tp" if hit else "fp"] += 1
            if not hit and verbose:
                print(f"FP {item['id']} {f.category} {f.text!r} ({f.rule})")
            if not labels and f.category in clean_fp:
                clean_fp[f.category] += 1
        for lb in labels:
            stats[lb["category"]]["labels"] += 1
            if any(
                f.category == lb["category"]
                and overlaps((f.start, f.end), (lb["start"], lb["end"]))
                for f in findings
            ):
                stats[lb["category"]]["found"] += 1
            elif verbose:
                print(f"FN {item['id']} {lb['category']} {item['text'][lb['start'] : lb['end']]!r}")
    report: dict[str, dict[str, float]] = {
        "_spun": {"recall": spun["found"] / spun["labels"] if spun["labels"] else 1.0, **spun},
        "_clean": dict(clean),
    }
    for cat, s in stats.items():
        predicted = s["tp"] + s["fp"]
        report[cat] = {
            "precision": s["tp"] / predicted if predicted else 1.0,
            "recall": s["found"] / s["labels"] if s["labels"] else 1.0,
            "labels": s["labels"],
            "findings": predicted,
            "clean_fp": clean_fp.get(cat, 0),
        }
    return report


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "-v"]
    for path in [Path(a) for a in args] or [DEFAULT]:
        report = evaluate(path, verbose="-v" in sys.argv)
        print(f"== {path.name}")
        _print(report)


def _print(report: dict[str, dict[str, float]]) -> None:
    spun, clean = report["_spun"], report["_clean"]
    if spun["labels"]:
        print(
            f"spun wording span recall: {spun['recall']:.3f} "
            f"({spun['found']:.0f}/{spun['labels']:.0f}, typo or wording finding)"
        )
    print(f"clean items with any finding: {clean['flagged']:.0f}/{clean['items']:.0f}")
    print(
        f"{'category':<12}{'labels':>8}{'findings':>10}"
        f"{'precision':>11}{'recall':>8}{'clean FP':>10}"
    )
    for cat, r in report.items():
        if cat.startswith("_"):
            continue
        if r["labels"] or r["findings"]:
            print(
                f"{cat:<12}{r['labels']:>8}{r['findings']:>10}{r['precision']:>11.3f}{r['recall']:>8.3f}{r['clean_fp']:>10}"
            )


if __name__ == "__main__":
    main()
