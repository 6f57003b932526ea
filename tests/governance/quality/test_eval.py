"""The measured-quality targets of issue 5, kept as a regression test."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))

from quality import evaluate  # noqa: E402


def test_every_category_meets_the_precision_and_recall_targets():
    report = evaluate(ROOT / "tests" / "data" / "quality_eval.jsonl")
    assert report["_clean"]["flagged"] == 0
    for cat, r in report.items():
        if cat.startswith("_"):
            continue
        if r["labels"]:
            assert r["precision"] >= 0.95, (cat, r)
            assert r["recall"] >= 0.90, (cat, r)
        assert r["clean_fp"] == 0, (cat, r)
