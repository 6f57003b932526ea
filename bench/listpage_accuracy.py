"""Column list detection on the site farm: how often the list block is found and how many item
dates are right, side by side with a naive baseline; and extraction speed.

The farm (``tests/fakes/sites.py``) renders every list page of generated sites (all layouts,
date styles, link styles, encodings, sidebars, truncated titles, pagination, empty columns)
and knows what each page shows; the labelled pages under ``tests/data/listpages/`` add
hand-written ones. Nothing goes over the network: pages are rendered in memory.

- *block found*: the extracted links are exactly the page's items (no item missed, no
  navigation or sidebar link taken);
- *date accuracy*: items of the page whose link was extracted with the right date, over all
  items of all pages (a missed item counts as wrong);
- *empty columns*: the page says 暂无信息 and the result says so (``EMPTY_NOTICE``).

The baseline is what one writes first: every ``<a>`` whose parent's text holds a date.

    python bench/listpage_accuracy.py [--sites 20] [--columns 10] [--seed 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lxml.html

from feeds.listpage import ExtractMethod, NoItemsReason, extract_items
from feeds.listpage.dates import find_full_dates, infer_year, link_date
from feeds.listpage.decode import decode_html
from feeds.listpage.html import safe_join
from tests.fakes.sites import SiteFarm

LABELLED = Path(__file__).resolve().parent.parent / "tests" / "data" / "listpages"
_SHORT = re.compile(r"(?<!\d)(\d{1,2})[-/.月](\d{1,2})(?!\d)")


@dataclass(slots=True)
class Case:
    name: str
    body: bytes
    content_type: str | None
    url: str
    today: date
    expected: dict[str, date | None]  # link → date (None: undated); empty: an empty column
    column: str | None = None  # the column's name, where the label gives it


def farm_cases(sites: int, columns: int, seed: int) -> tuple[list[Case], dict[str, int]]:
    farm = SiteFarm(today=date(2026, 12, 1))
    pairs = farm.generate(sites=sites, columns=columns, seed=seed)
    cases = []
    layouts: dict[str, int] = {}
    for site, column in pairs:
        col = farm.sites[site].columns[column]
        layouts[col.layout] = layouts.get(col.layout, 0) + 1
        pages = 2 if len(col.items) > col.page_size else 1
        for page in range(pages):
            body, content_type, url = farm.render_column(site, column, page)
            expected = {e.link: e.published for e in farm.expected(site, column, page)}
            name = f"{site}/{column}#{page} {col.layout}/{col.date_style}/{col.link_style}"
            cases.append(Case(name, body, content_type, url, farm.today, expected))
    return cases, layouts


def labelled_cases() -> list[Case]:
    cases = []
    for label in sorted(LABELLED.glob("*.json")):
        spec = json.loads(label.read_text("utf-8"))
        body = (LABELLED / spec["file"]).read_bytes()
        expected = {
            i["link"]: date.fromisoformat(i["published"]) if i["published"] else None
            for i in spec["items"]
        }
        today = date.fromisoformat(spec["today"])
        cases.append(
            Case(
                label.stem,
                body,
                spec.get("content_type"),
                spec["url"],
                today,
                expected,
                spec.get("column"),
            )
        )
    return cases


def naive(case: Case) -> dict[str, date | None]:
    """Every link whose parent element's text holds a date (full, or year-less)."""
    text, _ = decode_html(case.body, case.content_type)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8"), parser=_PARSER)
    except Exception:
        return {}
    found: dict[str, date | None] = {}
    for anchor in root.iter("a"):
        link = safe_join(case.url, anchor.get("href") or "")
        parent = anchor.getparent()
        if link is None or parent is None:
            continue
        around = parent.text_content() or ""
        full = find_full_dates(around, case.today)
        short = _SHORT.search(around)
        day = full[0].day if full else None
        if day is None and short:
            day = infer_year(int(short[1]), int(short[2]), case.today)
        if day is None:
            day = link_date(link, case.today)
        if day is not None:
            found.setdefault(link, day)
    return found


_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True)


def ours(case: Case) -> tuple[dict[str, date | None], bool]:
    page = extract_items(
        case.body,
        url=case.url,
        content_type=case.content_type,
        today=case.today,
        column_name=case.column,
    )
    empty_ok = page.method is ExtractMethod.NONE and page.reason is NoItemsReason.EMPTY_NOTICE
    return {i.link: i.published for i in page.items}, empty_ok


@dataclass(slots=True)
class Score:
    pages: int = 0
    found: int = 0
    items: int = 0
    right: int = 0
    empty: int = 0
    empty_right: int = 0

    def add(self, case: Case, got: dict[str, date | None], empty_ok: bool) -> bool:
        if not case.expected:
            self.empty += 1
            self.empty_right += empty_ok or not got
            return empty_ok or not got
        self.pages += 1
        exact = set(got) == set(case.expected)
        self.found += exact
        self.items += len(case.expected)
        self.right += sum(1 for link, day in case.expected.items() if got.get(link) == day)
        return exact

    def row(self, name: str) -> str:
        return (
            f"| {name} | {self.found}/{self.pages} = {self.found / max(1, self.pages):.3f} | "
            f"{self.right}/{self.items} = {self.right / max(1, self.items):.4f} | "
            f"{self.empty_right}/{self.empty} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    cases, layouts = farm_cases(args.sites, args.columns, args.seed)
    extra = labelled_cases()
    print(
        f"farm: {args.sites} sites x {args.columns} columns (seed {args.seed}), "
        f"{len(cases)} list pages; labelled pages: {len(extra)}"
    )
    print("layouts:", ", ".join(f"{k} {v}" for k, v in sorted(layouts.items())))
    print("\n| extractor (set) | block found | item dates right | empty columns recognised |")
    print("|---|---|---|---|")
    per_layout: dict[str, Score] = {}
    for label, group in (("farm", cases), ("labelled", extra)):
        if not group:
            continue
        mine, base = Score(), Score()
        for case in group:
            got, empty_ok = ours(case)
            if not mine.add(case, got, empty_ok) and args.show_misses:
                missing = set(case.expected) - set(got)
                extra_links = set(got) - set(case.expected)
                shown = sorted(extra_links)[:3]
                print(f"MISS {case.name}: -{len(missing)} +{len(extra_links)} {shown}")
            if label == "farm":
                layout = case.name.split(" ")[1].split("/")[0]
                per_layout.setdefault(layout, Score()).add(case, got, empty_ok)
            base.add(case, naive(case), False)
        print(mine.row(f"listpage ({label})"))
        print(base.row(f"naive baseline ({label})"))
    print("\n| layout | block found | item dates right |\n|---|---|---|")
    for layout, score in sorted(per_layout.items()):
        print(f"| {layout} | {score.found}/{score.pages} | {score.right}/{score.items} |")
    print()
    speed(cases + extra, args.repeat, "as rendered")
    speed([heavy(c) for c in cases + extra], args.repeat, "with 70 kB of portal chrome")


# What a provincial portal wraps around a list: a mega menu, a friend-links wall, inline script.
_CHROME = (
    '<div class="mega-menu">'
    + "".join(f'<a href="/lm/{n}/">栏目{n}</a>' for n in range(300))
    + '</div><div class="site-group">'
    + "".join(
        f'<a href="http://s{n}.example.gov.cn/">某某市第{n}政府部门门户网站</a>' for n in range(60)
    )
    + "</div><script>"
    + "var a=1;" * 4000
    + "</script>"
)


def heavy(case: Case) -> Case:
    """The same page inside a heavy portal template (same items, same encoding)."""
    text, encoding = decode_html(case.body, case.content_type)
    text = text.replace("<body>", "<body>" + _CHROME, 1)
    body = text.encode(encoding if encoding != "utf-16" else "utf-8", "xmlcharrefreplace")
    return Case(case.name, body, case.content_type, case.url, case.today, case.expected)


def speed(pages: list[Case], repeat: int, label: str) -> None:
    size = sum(len(c.body) for c in pages)
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        for case in pages:
            extract_items(case.body, url=case.url, content_type=case.content_type, today=case.today)
        best = min(best, time.process_time() - started)
    print(
        f"speed, {label}: {len(pages)} pages ({size / len(pages) / 1024:.1f} kB average) in "
        f"{best:.2f} s = {len(pages) / best:.0f} pages/s (CPU time, best of {repeat}, one core)"
    )


if __name__ == "__main__":
    main()
