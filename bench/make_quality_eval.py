"""Build tests/data/quality_eval.jsonl from the hand-written material in eval_corpus.py.

Each defect sentence is set between ordinary sentences of government text, so findings
must hold up in context; clean sentences appear alone and as paragraphs. Deterministic.

    python bench/make_quality_eval.py
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_corpus import CLEAN, DEFECTS, HTML_CLEAN, HTML_HIDDEN, HTML_OFFSITE
from eval_real import FRESH, FRESH_CLEAN, HELD_OUT, LONG_CLEAN, TUNED

from governance.quality import html_to_text

MARK = re.compile(r"\[\[([a-z_,]+):(.+?)\]\](?!\])")
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "quality_eval.jsonl"
HELD_OUT_PATH = OUT.with_name("quality_heldout.jsonl")


def unmark(marked: str) -> tuple[str, list[dict]]:
    text, labels, pos = [], [], 0
    n = 0
    for m in MARK.finditer(marked):
        text.append(marked[pos : m.start()])
        n += m.start() - pos
        for cat in m.group(1).split(","):
            labels.append({"category": cat, "start": n, "end": n + len(m.group(2))})
        text.append(m.group(2))
        n += len(m.group(2))
        pos = m.end()
    text.append(marked[pos:])
    return "".join(text), labels


def unmark_html(marked: str) -> tuple[str, list[dict]]:
    cats: list[str] = []

    def sentinel(m: re.Match[str]) -> str:
        cats.append(m.group(1))
        return f"\ue000{m.group(2)}\ue001"

    html = MARK.sub(sentinel, marked)
    text = html_to_text(html)
    labels, out, i = [], [], 0
    for part in re.split("(\ue000|\ue001)", text):
        if part == "\ue000":
            start = sum(map(len, out))
        elif part == "\ue001":
            for cat in cats[i].split(","):
                labels.append({"category": cat, "start": start, "end": sum(map(len, out))})
            i += 1
        else:
            out.append(part)
    return html.replace("\ue000", "").replace("\ue001", ""), labels


def main() -> None:
    rng = random.Random(20240501)
    items = []
    for i, s in enumerate(CLEAN):
        items.append({"id": f"clean-{i:03d}", "text": s, "labels": []})
    for i in range(60):
        para = "".join(rng.sample(CLEAN, 3))
        items.append({"id": f"clean-para-{i:03d}", "text": para, "labels": []})
    for cat, sentences in DEFECTS.items():
        for i, marked in enumerate(sentences):
            before, after = rng.choice(CLEAN), rng.choice(CLEAN)
            text, labels = unmark(before + marked + after)
            items.append({"id": f"{cat}-{i:03d}", "text": text, "labels": labels})
    skeleton = '<div class="article"><h1>{title}</h1><p>{a}</p>{body}<p>{b}</p></div>'
    html_sets = (("hidden", HTML_HIDDEN), ("offsite", HTML_OFFSITE), ("htmlclean", HTML_CLEAN))
    for kind, snippets in html_sets:
        for i, snippet in enumerate(snippets):
            doc = skeleton.format(
                title="工作动态", a=rng.choice(CLEAN), b=rng.choice(CLEAN), body=snippet
            )
            html, labels = unmark_html(doc)
            items.append({"id": f"{kind}-{i:03d}", "text": html, "html": True, "labels": labels})
    for i, doc in enumerate(LONG_CLEAN):
        items.append({"id": f"clean-long-{i:03d}", "text": doc, "labels": []})
    items += _real_cases(TUNED, "real", rng)
    _write(OUT, items)
    rng = random.Random(20241201)
    held = _real_cases(HELD_OUT, "held", rng)
    for i in range(20):  # clean paragraphs the checks were not tuned on either
        held.append(
            {"id": f"held-clean-{i:03d}", "text": "".join(rng.sample(CLEAN, 4)), "labels": []}
        )
    _write(HELD_OUT_PATH, held)
    rng = random.Random(20261201)
    fresh = _real_cases(FRESH, "fresh", rng)
    for i, sentence in enumerate(FRESH_CLEAN):
        fresh.append({"id": f"fresh-clean-{i:03d}", "text": sentence, "labels": []})
    _write(OUT.with_name("quality_fresh.jsonl"), fresh)


def _real_cases(groups: dict[str, list[str]], prefix: str, rng: random.Random) -> list[dict]:
    """Issue-12 cases set between ordinary sentences; the spun group keeps its own ids."""
    out = []
    for kind, sentences in groups.items():
        for i, marked in enumerate(sentences):
            text, labels = unmark(rng.choice(CLEAN) + marked + rng.choice(CLEAN))
            out.append({"id": f"{prefix}-{kind}-{i:03d}", "text": text, "labels": labels})
    return out


def _write(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(items)} items -> {path}")


if __name__ == "__main__":
    main()
